import type { ImporterError } from "../errors.js";
import { type Db, preparedQuery } from "./db.js";
import { guardedUpdate, type StepLog } from "./guarded-update.js";
import type { ImportProgress } from "./import-row.js";
import type { ImportState } from "./import-states.js";

const NOT_FINAL: ImportState[] = ["received", "fetched", "assembled", "reserved", "uploaded"];

/** Set before CGImport is sent: a retry after this asks Koji whether the import already happened. */
export function markImportStarted(db: Db, composeId: string): Promise<ImportProgress> {
  return guardedUpdate(db, composeId, ["uploaded"], "import_started_at = COALESCE(import_started_at, now())");
}

export function markImported(
  db: Db,
  composeId: string,
  buildId: number,
  log?: StepLog,
): Promise<ImportProgress> {
  return guardedUpdate(
    db,
    composeId,
    ["uploaded"],
    "state = 'imported', koji_build_id = $3, imported_at = now(), last_error = NULL, last_error_code = NULL, last_error_class = NULL",
    [buildId],
    { log },
  );
}

/** A final failure: `refunded` when a reservation was given back, else `failed`; the token is no use after. */
export function markFailed(
  db: Db,
  composeId: string,
  error: ImporterError,
  state: "failed" | "refunded",
  log?: StepLog,
): Promise<ImportProgress> {
  return guardedUpdate(
    db,
    composeId,
    NOT_FINAL,
    "state = $3, last_error = $4, last_error_code = $5, last_error_class = $6, koji_token = NULL",
    [state, error.message, error.code, error.errorClass],
    { log },
  );
}

/** A retryable failure: the import stays where it is, with the error on record for SREs. */
export async function noteRetryableError(db: Db, composeId: string, error: ImporterError): Promise<void> {
  await preparedQuery(
    db,
    `UPDATE imports SET last_error = $2, last_error_code = $3, last_error_class = 'retryable', updated_at = now()
     WHERE compose_id = $1`,
    [composeId, error.message, error.code],
  );
}
