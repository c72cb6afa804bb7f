import type { Db } from "./db.js";
import { guardedUpdate, type StepLog } from "./guarded-update.js";
import type { ImportProgress } from "./import-row.js";

/**
 * Set before CGInitBuild is sent. If the worker dies before saveReservation, the next try sees this mark
 * with no token and knows a BUILDING build of this NVR may be its own orphan (see pipeline/steps/reserve.ts).
 */
export function markReservationStarted(db: Db, composeId: string): Promise<ImportProgress> {
  return guardedUpdate(
    db,
    composeId,
    "markReservationStarted",
    "reservation_started_at = COALESCE(reservation_started_at, now())",
  );
}

/** Stored right after CGInitBuild answers (or from composer's koji.init): the build id and its token. */
export function saveReservation(
  db: Db,
  composeId: string,
  reservation: { buildId: number; token: string; source: "composer" | "importer" },
  document: unknown,
  log?: StepLog,
): Promise<ImportProgress> {
  return guardedUpdate(
    db,
    composeId,
    "saveReservation",
    "koji_build_id = $3, koji_token = $4, reservation_source = $5, cg_metadata = $6",
    [reservation.buildId, reservation.token, reservation.source, JSON.stringify(document)],
    { log },
  );
}
