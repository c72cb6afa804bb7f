import type { ImportContext } from "../context.js";

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

export function currentReservation(ctx: ImportContext): { buildId: number; token: string } | undefined {
  const { koji_build_id: buildId, koji_token: token, state } = ctx.row;
  if (buildId && token && (state === "reserved" || state === "uploaded")) return { buildId, token };
  return undefined;
}
