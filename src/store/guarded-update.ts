import { permanentError } from "../errors.js";
import { type Db, preparedQuery } from "./db.js";
import { type ImportProgress, PROGRESS_COLUMNS_SQL, toImportProgress } from "./import-row.js";
import { type ImportState, type Statement, stateChange } from "./import-states.js";

/** The attempt-log line of a step that ends with this update: written by the same statement, so in one commit. */
export interface StepLog {
  attempt: number;
  step: string;
  startedAt: Date;
}

/**
 * UPDATE imports SET <assignments> WHERE compose_id = $1 AND state = ANY(<from>): the state guard lives in the
 * statement, so an update that lost a race (or a bug that skips a step) changes nothing and says so. The guard,
 * and the state the row is left in, are the `statement`'s in the state machine (import-states.ts); `to` picks one
 * when it may end in several. A mark, which stays in its state, sets none.
 * `assignments` refers to the values as $3, $4, ... ($1 is the compose id, $2 the allowed states).
 * `also` are further data-modifying statements of the same change (they read the matched row as `updated` and
 * may use the values' parameters); with `log`, the step's "ok" line goes into the attempt log. Either happens in
 * the same statement, so in the same commit, and only if the guard matched.
 */
export async function guardedUpdate(
  db: Db,
  composeId: string,
  statement: Statement,
  assignments: string,
  values: unknown[] = [],
  options: { log?: StepLog; also?: string[]; to?: ImportState } = {},
): Promise<ImportProgress> {
  const { from, to } = stateChange(statement);
  const target = options.to ?? (to.length === 1 ? to[0] : undefined);
  if (target === undefined || !to.includes(target))
    throw new Error(`${statement} leaves an import ${to.join(" or ")}, not ${String(options.to)}`);
  const params: unknown[] = [composeId, from, ...values];
  const staysInState = from.length === 1 && from[0] === target;
  let sets = assignments;
  if (!staysInState) {
    params.push(target);
    sets = `state = $${params.length}, ${assignments}`;
  }
  const update = `UPDATE imports SET ${sets}, updated_at = now()
     WHERE compose_id = $1 AND state = ANY($2::text[])
     RETURNING ${PROGRESS_COLUMNS_SQL}`;
  const effects = [...(options.also ?? [])];
  if (options.log) {
    const at = params.length + 1;
    effects.push(`INSERT INTO import_attempts (compose_id, attempt, step, outcome, started_at)
       SELECT compose_id, $${at}, $${at + 1}, 'ok', $${at + 2} FROM updated`);
    params.push(options.log.attempt, options.log.step, options.log.startedAt);
  }
  const sql =
    effects.length === 0
      ? update
      : `WITH updated AS (${update}), ${effects.map((effect, i) => `effect${i} AS (${effect})`).join(", ")}
     SELECT * FROM updated`;
  const result = await preparedQuery(db, sql, params);
  const row = result.rows[0];
  if (!row) {
    throw permanentError(
      "STORE_STATE_CONFLICT",
      `import ${composeId} is not in state ${from.join(" or ")}; another worker or an operator changed it`,
    );
  }
  return toImportProgress(row);
}
