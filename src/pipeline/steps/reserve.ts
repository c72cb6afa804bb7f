import { withBuildId } from "../../core/assemble.js";
import { permanentError } from "../../errors.js";
import { BUILD_STATE_NAMES, BuildState } from "../../koji/schemas.js";
import type { CgMetadata } from "../../schemas/cg-metadata.js";
import { markImported } from "../../store/import-result.js";
import { nvrOf } from "../../store/import-row.js";
import { markReservationStarted, saveReservation } from "../../store/reservation.js";
import { advance, type ImportContext } from "../context.js";
import { crashPoint } from "../crash-hook.js";
import { composerReservation } from "./fetch.js";
import { isOurCompleteBuild } from "./import.js";

/**
 * Step 5: the build reservation. Composer's koji-init reservation is used when it made one and it still
 * holds; otherwise the importer calls CGInitBuild and stores the id and token right after. A worker that died
 * between the call and the store left a BUILDING build of this NVR that it owns and has no token for: it
 * cancels that orphan and reserves again, so no build stays stuck in BUILDING.
 */
export async function reserveBuild(ctx: ImportContext): Promise<void> {
  if (await earlierReservationImported(ctx)) return;
  const fromComposer = await usableComposerReservation(ctx);
  if (fromComposer) {
    await storeReservation(ctx, fromComposer, "composer");
    return;
  }
  const triedBefore = ctx.row.reservation_started_at !== null;
  advance(ctx, await markReservationStarted(ctx.db, ctx.composeId));
  if (triedBefore) await cancelOrphanedReservation(ctx);

  const { name, version, release } = ctx.event.koji;
  const reservation = await ctx.koji.CGInitBuild({ name, version, release });
  crashPoint("reserve-call");
  await storeReservation(ctx, { buildId: reservation.build_id, token: reservation.token }, "importer");
  ctx.logger.info({ koji_build_id: reservation.build_id }, "build reserved");
}

/**
 * A later attempt (a replay, an operator's retry) of an import whose reservation Koji already shows COMPLETE:
 * an earlier CGImport of it committed although the import was recorded failed (before the importer waited
 * for a running CGImport, a second one was refused and the import dead-lettered). That build is this import's,
 * never a conflict: recorded imported with its id. The candidates are the last reservation the import stored
 * and composer's koji-init one.
 */
async function earlierReservationImported(ctx: ImportContext): Promise<boolean> {
  if (ctx.attempt <= 1) return false;
  const candidates = new Set<number>();
  if (ctx.row.koji_build_id) candidates.add(ctx.row.koji_build_id);
  const fromComposer = composerReservation(ctx);
  if (fromComposer) candidates.add(fromComposer.buildId);
  for (const buildId of candidates) {
    const build = await ctx.koji.getBuild(buildId);
    if (!build || !isOurCompleteBuild(ctx, build)) continue;
    advance(ctx, await markImported(ctx.db, ctx.composeId, buildId, ctx.stepLog));
    ctx.logger.info(
      { koji_build_id: buildId },
      "Koji has this import's reservation COMPLETE; recorded imported",
    );
    return true;
  }
  return false;
}

/**
 * Composer's koji-init reservation while it still holds. The first attempt takes it as it is (no extra call);
 * a later one (after a refund, a dead-letter replay, an operator's retry) asks Koji first, because an earlier
 * attempt may have refunded it, and CGImport with a spent token can only fail. A spent one is left behind for
 * a reservation of the importer's own.
 */
async function usableComposerReservation(
  ctx: ImportContext,
): Promise<{ buildId: number; token: string } | undefined> {
  const reservation = composerReservation(ctx);
  if (!reservation || ctx.attempt <= 1) return reservation;
  const build = await ctx.koji.getBuild(reservation.buildId);
  if (build?.state === BuildState.BUILDING) return reservation;
  const state = build ? (BUILD_STATE_NAMES[build.state] ?? String(build.state)) : "absent";
  ctx.logger.warn(
    { koji_build_id: reservation.buildId, state },
    "composer's reservation is spent; reserving anew",
  );
  return undefined;
}

/** The reservation and the CG document that now names its build id, stored as the step's end. */
async function storeReservation(
  ctx: ImportContext,
  reservation: { buildId: number; token: string },
  source: "composer" | "importer",
): Promise<void> {
  const document = withBuildId(ctx.row.cg_metadata as CgMetadata, reservation.buildId);
  const progress = await saveReservation(
    ctx.db,
    ctx.composeId,
    { ...reservation, source },
    document,
    ctx.stepLog,
  );
  advance(ctx, progress, { cg_metadata: document });
}

async function cancelOrphanedReservation(ctx: ImportContext): Promise<void> {
  const nvr = nvrOf(ctx.row);
  const build = await ctx.koji.getBuild(nvr);
  if (!build || build.state === BuildState.FAILED || build.state === BuildState.CANCELED) return;
  const state = BUILD_STATE_NAMES[build.state] ?? String(build.state);
  if (build.state === BuildState.BUILDING) {
    const me = await ctx.koji.getLoggedInUser();
    if (me && (build.owner_id === me.id || build.owner_name === me.name)) {
      await ctx.koji.cancelBuild(build.id);
      ctx.logger.warn(
        { koji_build_id: build.id },
        "cancelled the orphaned reservation of an earlier attempt",
      );
      return;
    }
  }
  throw permanentError(
    "KOJI_NVR_CONFLICT",
    `Koji already has build ${nvr} (id=${build.id}, state=${state}) that this import did not make`,
    { details: { koji_build_id: build.id, state } },
  );
}
