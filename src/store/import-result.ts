import type { ImporterError } from "../errors.js";
import { type Db, preparedQuery } from "./db.js";
import { guardedUpdate, type StepLog } from "./guarded-update.js";
import type { ImportProgress } from "./import-row.js";
import { resultOutboxInsert } from "./result-outbox.js";

/**
 * Set before each CGImport is sent: while it is set, that CGImport may still be running on the hub (until
 * KOJI_IMPORT_TIMEOUT after it), and a retry asks Koji, and waits, before it sends another.
 */
export function markImportStarted(db: Db, composeId: string): Promise<ImportProgress> {
  return guardedUpdate(db, composeId, "markImportStarted", "import_started_at = now()");
}

/** The hub answered the CGImport (a fault): nothing of it is running any more, so a retry need not wait. */
export function markImportAnswered(db: Db, composeId: string): Promise<ImportProgress> {
  return guardedUpdate(db, composeId, "markImportAnswered", "import_started_at = NULL");
}

/** The import done: its result event goes into the outbox in the same statement, so in the same commit. */
export function markImported(
  db: Db,
  composeId: string,
  buildId: number,
  log?: StepLog,
): Promise<ImportProgress> {
  // From `uploaded` as CGImport answers; from earlier states when Koji shows a reservation of this import
  // COMPLETE (a refund refused after an earlier CGImport committed, an operator's retry of such an import).
  return guardedUpdate(
    db,
    composeId,
    "markImported",
    "koji_build_id = $3, imported_at = now(), last_error = NULL, last_error_code = NULL, last_error_class = NULL",
    [buildId],
    { log, also: [resultOutboxInsert()] },
  );
}

/**
 * A final failure: `refunded` when a reservation was given back, else `failed`; the token is no use after. The
 * result event goes into the outbox in the same statement, naming `reservedBuildId` (composer's reservation of a
 * failed compose, which the row does not hold) or else the row's build id.
 */
export function markFailed(
  db: Db,
  composeId: string,
  error: ImporterError,
  state: "failed" | "refunded",
  log?: StepLog,
  reservedBuildId?: number,
): Promise<ImportProgress> {
  return guardedUpdate(
    db,
    composeId,
    "markFailed",
    "last_error = $3, last_error_code = $4, last_error_class = $5, koji_token = NULL",
    [error.message, error.code, error.errorClass, reservedBuildId ?? null],
    { log, also: [resultOutboxInsert(6)], to: state },
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
