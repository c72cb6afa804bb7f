import type { ImporterError } from "../errors.js";
import { type Db, preparedQuery } from "./db.js";
import { type ImportRow, ROW_COLUMNS_SQL, toImportRow } from "./import-row.js";

/**
 * Counts one handling of the compose and returns the whole row as it now stands, documents included: read
 * under the import's lock, it is where this attempt resumes. Its `attempts` is this attempt's number (1 for the
 * first). Undefined when there is no such import.
 */
export async function startAttempt(db: Db, composeId: string): Promise<ImportRow | undefined> {
  const result = await preparedQuery(
    db,
    `UPDATE imports SET attempts = attempts + 1, updated_at = now() WHERE compose_id = $1 RETURNING ${ROW_COLUMNS_SQL}`,
    [composeId],
  );
  return result.rows[0] ? toImportRow(result.rows[0]) : undefined;
}

/** One line of the attempt log: which step ran in which attempt, and how it ended. */
export async function recordStep(
  db: Db,
  entry: { composeId: string; attempt: number; step: string; startedAt: Date; error?: ImporterError },
): Promise<void> {
  await preparedQuery(
    db,
    `INSERT INTO import_attempts (compose_id, attempt, step, outcome, error_code, error_message, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      entry.composeId,
      entry.attempt,
      entry.step,
      entry.error ? entry.error.errorClass : "ok",
      entry.error?.code ?? null,
      entry.error?.message ?? null,
      entry.startedAt,
    ],
  );
}
