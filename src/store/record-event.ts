import { retryableError } from "../errors.js";
import type { ComposeFinishedEvent } from "../schemas/event.js";
import { type Db, preparedQuery } from "./db.js";
import { type ImportProgress, PROGRESS_COLUMNS_SQL, toImportProgress } from "./import-row.js";
import type { ImportState } from "./import-states.js";

/**
 * Inserts the compose's row on its first event and returns the row as it stands; a redelivered or duplicated
 * event finds the existing row and changes nothing. Events without `koji` are recorded as ignored.
 */
export async function recordEvent(
  db: Db,
  event: ComposeFinishedEvent,
): Promise<{ row: ImportProgress; inserted: boolean }> {
  const koji = event.koji;
  // The states the state machine (import-states.ts) lets recordEvent create a row in.
  const state: ImportState = koji ? "received" : "ignored";
  const inserted = await preparedQuery(
    db,
    `INSERT INTO imports (compose_id, state, koji_server, koji_task_id, name, version, release, upload_directory, event)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (compose_id) DO NOTHING
     RETURNING ${PROGRESS_COLUMNS_SQL}`,
    [
      event.compose_id,
      state,
      koji?.server ?? null,
      koji?.task_id ?? null,
      koji?.name ?? null,
      koji?.version ?? null,
      koji?.release ?? null,
      koji?.upload_directory ?? null,
      JSON.stringify(event),
    ],
  );
  if (inserted.rows[0]) return { row: toImportProgress(inserted.rows[0]), inserted: true };
  const existing = await preparedQuery(
    db,
    `SELECT ${PROGRESS_COLUMNS_SQL} FROM imports WHERE compose_id = $1`,
    [event.compose_id],
  );
  const row = existing.rows[0];
  // Only an operator deleting the row between the two statements gets here; the redelivery records it anew.
  if (!row)
    throw retryableError("STORE_ROW_VANISHED", `import ${event.compose_id} vanished while being recorded`);
  return { row: toImportProgress(row), inserted: false };
}
