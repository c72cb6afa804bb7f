import { BUILD_STATE_NAMES, BuildState } from "../../koji/schemas.js";
import type { ImportContext } from "../context.js";
import { composerReservation } from "./fetch.js";
import { isOurCompleteBuild } from "./import.js";

/**
 * Gives the reservation back (CGRefundBuild, state FAILED) so no build is left BUILDING and the NVR can be
 * reserved again. Returns false when there is no reservation to give back.
 */
export async function refundReservation(
  ctx: ImportContext,
  reservation = currentReservation(ctx),
): Promise<boolean> {
  if (!reservation) return false;
  await ctx.koji.CGRefundBuild(reservation.buildId, reservation.token, "FAILED");
  ctx.logger.info({ koji_build_id: reservation.buildId }, "reservation refunded");
  return true;
}

/** Build states that hold no reservation any more: refunded, cancelled by hand, or deleted. */
const GIVEN_BACK: ReadonlySet<number> = new Set([BuildState.FAILED, BuildState.CANCELED, BuildState.DELETED]);

/**
 * Refunds the reservation, or finds it given back already. When CGRefundBuild fails, Koji is asked for the
 * build: one no longer BUILDING (a refund whose reply was lost, a build composer or a Koji admin failed) has
 * nothing left to refund, and refunding again would be refused the same way on every retry. Throws the
 * refund's error when the build is still BUILDING, or COMPLETE, or Koji cannot say.
 */
export async function giveBackReservation(
  ctx: ImportContext,
  reservation = currentReservation(ctx),
): Promise<boolean> {
  return (await giveBack(ctx, reservation, false)) === "refunded";
}

/**
 * As giveBackReservation, for an import that gives up after its reservation may have been imported: a refund
 * refused because Koji shows the build COMPLETE, with this import's NVR, means an earlier CGImport of this
 * reservation committed (a worker killed during a slow CGImport, a second one refused meanwhile). That is the
 * import done, not a failure: "imported", with the build id for the caller to record.
 */
export async function giveBackOrFindImported(
  ctx: ImportContext,
  reservation = currentReservation(ctx),
): Promise<"refunded" | "imported" | "none"> {
  return giveBack(ctx, reservation, true);
}

async function giveBack(
  ctx: ImportContext,
  reservation: { buildId: number; token: string } | undefined,
  completeIsImported: boolean,
): Promise<"refunded" | "imported" | "none"> {
  if (!reservation) return "none";
  try {
    return (await refundReservation(ctx, reservation)) ? "refunded" : "none";
  } catch (refundError) {
    const build = await ctx.koji.getBuild(reservation.buildId).catch(() => undefined);
    if (completeIsImported && build && isOurCompleteBuild(ctx, build)) {
      ctx.logger.info(
        { koji_build_id: reservation.buildId, refund_error: (refundError as Error).message },
        "the refund was refused: Koji has this import's build COMPLETE",
      );
      return "imported";
    }
    if (build === undefined || (build !== null && !GIVEN_BACK.has(build.state))) throw refundError;
    ctx.logger.info(
      { koji_build_id: reservation.buildId, build_state: build ? BUILD_STATE_NAMES[build.state] : "absent" },
      "reservation already given back",
    );
    return "refunded";
  }
}

export function currentReservation(ctx: ImportContext): { buildId: number; token: string } | undefined {
  const { koji_build_id: buildId, koji_token: token, state } = ctx.row;
  if (buildId && token && (state === "reserved" || state === "uploaded")) return { buildId, token };
  return undefined;
}

/**
 * What a failing import gives back: its own reservation; before it has one (a compose refused at assembly or
 * pre-flight), composer's koji-init reservation when composer made one, so that build does not stay BUILDING.
 * Nothing when neither exists: no Koji call for an import that reserved nothing.
 */
export function reservationToGiveBack(ctx: ImportContext): { buildId: number; token: string } | undefined {
  const own = currentReservation(ctx);
  if (own) return own;
  if (ctx.row.state !== "fetched" && ctx.row.state !== "assembled") return undefined;
  try {
    return composerReservation(ctx);
  } catch {
    return undefined;
  }
}
