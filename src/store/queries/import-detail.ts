import type { Db } from "../db.js";
import { getImport } from "../get-import.js";
import type { ImportRow } from "../import-row.js";
import { latestResultEvent, type ResultEventView } from "../result-outbox.js";

export interface AttemptEntry {
  attempt: number;
  step: string;
  outcome: string;
  error_code: string | null;
  error_message: string | null;
  started_at: Date;
  finished_at: Date;
}

/**
 * The import with its attempt log: what an SRE reads first when an import is stuck or failed; and its latest
 * result event (whether it was published), null when none was written or it was pruned.
 */
export async function getImportDetail(
  db: Db,
  composeId: string,
): Promise<{ row: ImportRow; attempts: AttemptEntry[]; result_event: ResultEventView | null } | undefined> {
  const row = await getImport(db, composeId);
  if (!row) return undefined;
  const attempts = await db.query<AttemptEntry>(
    `SELECT attempt, step, outcome, error_code, error_message, started_at, finished_at
     FROM import_attempts WHERE compose_id = $1 ORDER BY id`,
    [composeId],
  );
  return { row, attempts: attempts.rows, result_event: await latestResultEvent(db, composeId) };
}

/** The stored CG document of the import that made Koji build `buildId` on any hub. */
export async function getImportByBuildId(db: Db, buildId: number): Promise<ImportRow | undefined> {
  const result = await db.query(
    "SELECT compose_id FROM imports WHERE koji_build_id = $1 AND state = 'imported' LIMIT 1",
    [buildId],
  );
  const id = result.rows[0]?.compose_id as string | undefined;
  return id ? getImport(db, id) : undefined;
}
