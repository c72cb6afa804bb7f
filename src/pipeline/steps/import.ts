import { setTimeout as sleep } from "node:timers/promises";
import { isStoreFailure } from "../../error-codes.js";
import { permanentError, retryableError, toImporterError } from "../../errors.js";
import { KojiFault } from "../../koji/faults.js";
import { BUILD_STATE_NAMES, type BuildInfo, BuildState } from "../../koji/schemas.js";
import { markImportAnswered, markImported, markImportStarted } from "../../store/import-result.js";
import { nvrOf } from "../../store/import-row.js";
import { advance, type ImportContext } from "../context.js";
import { crashPoint } from "../crash-hook.js";
import { missingUploads } from "./check-uploads.js";

/** How often Koji is asked about a CGImport that may still be running on the hub. */
export const DEFAULT_IMPORT_POLL_MS = 2000;
/**
 * The longest one attempt waits for such a CGImport before it hands the wait to the retry queues: a delivery
 * held unacknowledged for KOJI_IMPORT_TIMEOUT (30 min) would meet RabbitMQ's own delivery timeout (30 min).
 */
const MAX_WAIT_PER_ATTEMPT_MS = 5 * 60_000;

/**
 * Step 8: CGImport. On the hub CGImport takes seconds to minutes (it checksums every output) and the build stays
 * BUILDING until it commits; a client that goes away does not stop it. So a CGImport that was sent and never
 * answered (a worker killed meanwhile, a cut connection) may still be running: the next try polls getBuild until
 * the build is COMPLETE, or KOJI_IMPORT_TIMEOUT after that send has passed, and only then imports again. A second
 * CGImport for the reservation while the first runs would fail ("Destination directory already exists") and its
 * refund too ("not in BUILDING state") while Koji ends with the right build. Any failed CGImport asks Koji before
 * the failure counts: our reservation COMPLETE means imported.
 */
export async function importBuild(ctx: ImportContext, metadataJson: string): Promise<void> {
  const buildId = ctx.row.koji_build_id as number;
  const token = ctx.row.koji_token as string;
  if (ctx.row.import_started_at !== null && (await earlierImportDone(ctx, buildId))) return;

  advance(ctx, await markImportStarted(ctx.db, ctx.composeId));
  try {
    const build = await ctx.koji.CGImport(metadataJson, ctx.event.koji.upload_directory, token, {
      timeoutMs: ctx.settings.importTimeoutMs,
    });
    crashPoint("import-call");
    advance(ctx, await markImported(ctx.db, ctx.composeId, build.id, ctx.stepLog));
  } catch (error) {
    const failure = toImporterError(error);
    // The failure is our own database's (a state guard that did not match, say), not the hub's: Koji has no say.
    if (isStoreFailure(failure.code)) throw failure;
    // Whatever the failure, Koji is asked first: a lost answer, or a CGImport of an earlier try that committed
    // while this one was refused, leaves our reservation COMPLETE.
    const build = await ctx.koji.getBuild(buildId).catch(() => undefined);
    if (build && isOurCompleteBuild(ctx, build)) {
      recordFound(
        ctx,
        buildId,
        "CGImport failed, but Koji has our build COMPLETE; recorded",
        failure.message,
      );
      advance(ctx, await markImported(ctx.db, ctx.composeId, buildId, ctx.stepLog));
      return;
    }
    // No answer: the hub may still be at it (moving files as it goes), so missing uploads say nothing; the
    // retry waits for it before it imports again.
    if (failure.code === "KOJI_COMMIT_UNCERTAIN") throw failure;
    if (build?.state === BuildState.BUILDING && failure instanceof KojiFault && runningElsewhere(failure)) {
      throw retryableError(
        "KOJI_IMPORT_IN_PROGRESS",
        `another CGImport of Koji build ${buildId} is still running on the hub (${failure.message}); waiting for it`,
        { cause: failure },
      );
    }
    // The hub answered: this CGImport is over, and a retry need not wait for it.
    advance(ctx, await markImportAnswered(ctx.db, ctx.composeId));
    const missing = await missingUploads(ctx).catch(() => []);
    if (missing.length > 0) {
      throw permanentError(
        "KOJI_UPLOADS_CONSUMED",
        `uploads consumed by a failed import (${failure.message}); missing now: ${missing.join(", ")}`,
        { cause: failure },
      );
    }
    throw failure;
  }
  ctx.logger.info({ koji_build_id: ctx.row.koji_build_id }, "imported");
}

/** The refusal of a CGImport while another one of the same reservation holds the build directory. */
function runningElsewhere(fault: KojiFault): boolean {
  return fault.faultString.includes("Destination directory already exists");
}

/** Our reservation, COMPLETE: its id (looked up by id) and the NVR this import asked for. */
export function isOurCompleteBuild(ctx: ImportContext, build: BuildInfo): boolean {
  return build.state === BuildState.COMPLETE && nvrOfBuild(build) === nvrOf(ctx.row);
}

function nvrOfBuild(build: BuildInfo): string {
  return `${build.name}-${build.version}-${build.release}`;
}

function recordFound(ctx: ImportContext, buildId: number, message: string, cause?: string): void {
  ctx.logger.info({ koji_build_id: buildId, ...(cause ? { cause } : {}) }, message);
}

/**
 * A CGImport was sent before and not answered: true when Koji shows our build COMPLETE (recorded imported);
 * false when it is BUILDING and that CGImport cannot be running any more (KOJI_IMPORT_TIMEOUT after it was
 * sent), so importing again is safe. While it may still be running, this waits, asking Koji.
 */
async function earlierImportDone(ctx: ImportContext, buildId: number): Promise<boolean> {
  const sentAt = (ctx.row.import_started_at as Date).getTime();
  const deadline = sentAt + ctx.settings.importTimeoutMs;
  const pollMs = ctx.settings.importPollMs ?? DEFAULT_IMPORT_POLL_MS;
  const waitUntil = Math.min(deadline, Date.now() + MAX_WAIT_PER_ATTEMPT_MS);
  let waiting = false;
  for (;;) {
    const build = await ctx.koji.getBuild(buildId);
    if (build && isOurCompleteBuild(ctx, build)) {
      advance(ctx, await markImported(ctx.db, ctx.composeId, buildId, ctx.stepLog));
      recordFound(ctx, buildId, "an earlier CGImport had imported the build; recorded");
      return true;
    }
    if (build?.state !== BuildState.BUILDING || nvrOfBuild(build) !== nvrOf(ctx.row)) {
      const state = build ? (BUILD_STATE_NAMES[build.state] ?? String(build.state)) : "absent";
      throw permanentError(
        "KOJI_NVR_CONFLICT",
        `Koji build ${buildId} is ${state}${build ? ` (${nvrOfBuild(build)})` : ""}, not our reservation of ${nvrOf(ctx.row)}`,
      );
    }
    const now = Date.now();
    if (now >= deadline) return false;
    if (now >= waitUntil) {
      throw retryableError(
        "KOJI_IMPORT_IN_PROGRESS",
        `the CGImport sent at ${new Date(sentAt).toISOString()} may still be running on the hub (build ${buildId} is BUILDING); waiting for it`,
      );
    }
    if (!waiting) {
      waiting = true;
      ctx.logger.info(
        { koji_build_id: buildId, sent_at: new Date(sentAt).toISOString() },
        "an earlier CGImport may still be running on the hub; waiting for it instead of sending another",
      );
    }
    await sleep(Math.min(pollMs, waitUntil - now));
  }
}
