import type { Db } from "./db.js";
import { guardedUpdate, type StepLog } from "./guarded-update.js";
import type { ImportProgress } from "./import-row.js";

/** Keeps composer's answers (status, logs, manifests) so later steps and SREs read them without asking again. */
export function saveFetched(
  db: Db,
  composeId: string,
  responses: { status: unknown; logs: unknown; manifests: unknown },
  log?: StepLog,
): Promise<ImportProgress> {
  return guardedUpdate(
    db,
    composeId,
    "saveFetched",
    "compose_status = $3, compose_logs = $4, compose_manifests = $5",
    [JSON.stringify(responses.status), JSON.stringify(responses.logs), JSON.stringify(responses.manifests)],
    { log },
  );
}
