import { permanentError } from "../../errors.js";
import { markFailed } from "../../store/import-result.js";
import { advance, type ImportContext } from "../context.js";
import { storedStatus } from "../stored-documents.js";
import { composerReservation } from "./fetch.js";
import { giveBackReservation } from "./refund.js";

/** True when composer says the compose failed (or the event did): there is nothing to import. */
export function composeFailed(ctx: ImportContext): boolean {
  const status = storedStatus(ctx);
  return status.status === "failure" || ctx.event.status === "failure";
}

/**
 * Step 3: a failed compose is recorded and its reservation, if composer made one, refunded, so the NVR is free
 * for the next try. The import ends here; it is not an error of the importer.
 */
export async function finishFailedCompose(ctx: ImportContext): Promise<void> {
  const reservation = composerReservation(ctx);
  const refunded = await giveBackReservation(ctx, reservation);
  const status = storedStatus(ctx);
  const reason =
    status.image_statuses?.find((s) => s.error)?.error?.reason ?? status.image_status.error?.reason;
  const error = permanentError("COMPOSE_FAILED", `the compose failed${reason ? `: ${reason}` : ""}`);
  const state = refunded ? "refunded" : "failed";
  advance(ctx, await markFailed(ctx.db, ctx.composeId, error, state, ctx.stepLog, reservation?.buildId));
  ctx.logger.info({ refunded }, "compose failed; recorded");
}
