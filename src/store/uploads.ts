import type { Db } from "./db.js";
import { guardedUpdate, type StepLog } from "./guarded-update.js";
import type { ImportProgress } from "./import-row.js";

/** The first time an upload was found missing or short: the start of the bounded wait for hub replicas. */
export function markUploadsWaiting(db: Db, composeId: string): Promise<ImportProgress> {
  return guardedUpdate(
    db,
    composeId,
    "markUploadsWaiting",
    "uploads_waiting_since = COALESCE(uploads_waiting_since, now())",
  );
}

export function markUploaded(db: Db, composeId: string, log?: StepLog): Promise<ImportProgress> {
  return guardedUpdate(db, composeId, "markUploaded", "uploads_waiting_since = NULL", [], { log });
}
