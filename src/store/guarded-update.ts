import { permanentError } from "../errors.js";
import type { Db } from "./db.js";
import { type ImportRow, toImportRow } from "./import-row.js";
import type { ImportState } from "./import-states.js";

/**
 * UPDATE imports SET <assignments> WHERE compose_id = $1 AND state = ANY(<from>): the state guard lives in the
 * statement, so an update that lost a race (or a bug that skips a step) changes nothing and says so.
 * `assignments` refers to the values as $3, $4, ... ($1 is the compose id, $2 the allowed states).
 */
export async function guardedUpdate(
  db: Db,
  composeId: string,
  from: readonly ImportState[],
  assignments: string,
  values: unknown[] = [],
): Promise<ImportRow> {
  const result = await db.query(
    `UPDATE imports SET ${assignments}, updated_at = now()
     WHERE compose_id = $1 AND state = ANY($2::text[])
     RETURNING *`,
    [composeId, from, ...values],
  );
  const row = result.rows[0];
  if (!row) {
    throw permanentError(
      "STORE_STATE_CONFLICT",
      `import ${composeId} is not in state ${from.join(" or ")}; another worker or an operator changed it`,
    );
  }
  return toImportRow(row);
}
