import type { Db } from "../db.js";
import type { ImportRow } from "../import-row.js";
import { toImportRow } from "../import-row.js";
import { stateChange } from "../import-states.js";

/**
 * An operator's retry: a failed or refunded import starts over from `received` (its event is re-published by
 * the caller). The reservation marks that tell a retry "Koji may have this already" are cleared because the
 * reservation was refunded or never made; reservation_started_at stays, so an orphaned BUILDING build of an
 * earlier crash is still found and cancelled, and so does koji_build_id, the last reservation: the reserve step
 * asks Koji about it, and one Koji shows COMPLETE (an import wrongly left failed) ends the import `imported`.
 * Undefined when the import is not in a retryable state.
 */
export async function retryImport(db: Db, composeId: string): Promise<ImportRow | undefined> {
  const { from, to } = stateChange("retryImport");
  const result = await db.query(
    `UPDATE imports
     SET state = $3, koji_token = NULL, reservation_source = NULL,
         import_started_at = NULL, uploads_waiting_since = NULL, updated_at = now()
     WHERE compose_id = $1 AND state = ANY($2::text[])
     RETURNING *`,
    [composeId, from, to[0]],
  );
  return result.rows[0] ? toImportRow(result.rows[0]) : undefined;
}
