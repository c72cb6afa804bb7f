import { permanentError, toImporterError } from "../../errors.js";
import { BUILD_STATE_NAMES, BuildState } from "../../koji/schemas.js";
import { markImported, markImportStarted } from "../../store/import-result.js";
import { nvrOf } from "../../store/import-row.js";
import { advance, type ImportContext } from "../context.js";
import { crashPoint } from "../crash-hook.js";
import { missingUploads } from "./check-uploads.js";

/**
 * Step 8: CGImport. A try after one that may have reached Koji asks Koji first: the build COMPLETE with our
 * build id means the earlier try worked (only its answer or our commit was lost); BUILDING with our reservation
 * means import again; anything else is a conflict. A failed CGImport can have consumed the uploads (the hub
 * moves files as it goes), so they are checked before the failure is handed on as retryable; a CGImport whose
 * answer was lost is first looked up, as the import it may have been.
 */
export async function importBuild(ctx: ImportContext, metadataJson: string): Promise<void> {
  const buildId = ctx.row.koji_build_id as number;
  const token = ctx.row.koji_token as string;
  if (ctx.row.import_started_at !== null && (await alreadyImported(ctx, buildId))) return;

  advance(ctx, await markImportStarted(ctx.db, ctx.composeId));
  try {
    const build = await ctx.koji.CGImport(metadataJson, ctx.event.koji.upload_directory, token, {
      timeoutMs: ctx.settings.importTimeoutMs,
    });
    crashPoint("import-call");
    advance(ctx, await markImported(ctx.db, ctx.composeId, build.id, ctx.stepLog));
  } catch (error) {
    const failure = toImporterError(error);
    if (failure.code.startsWith("STORE_")) throw failure;
    // A CGImport that may have reached the hub has moved the uploads into the build if it worked: ask Koji.
    // If it has no answer yet, the hub may still be at it (moving files as it goes), so missing uploads say
    // nothing; the retry asks Koji again before it imports.
    if (failure.code === "KOJI_COMMIT_UNCERTAIN") {
      if (await importedAfterAll(ctx, buildId)) return;
      throw failure;
    }
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

async function importedAfterAll(ctx: ImportContext, buildId: number): Promise<boolean> {
  const build = await ctx.koji.getBuild(nvrOf(ctx.row)).catch(() => undefined);
  if (build?.id !== buildId || build.state !== BuildState.COMPLETE) return false;
  advance(ctx, await markImported(ctx.db, ctx.composeId, buildId, ctx.stepLog));
  ctx.logger.info({ koji_build_id: buildId }, "CGImport's answer was lost, but Koji has the build; recorded");
  return true;
}

async function alreadyImported(ctx: ImportContext, buildId: number): Promise<boolean> {
  const build = await ctx.koji.getBuild(nvrOf(ctx.row));
  if (build?.id === buildId && build.state === BuildState.COMPLETE) {
    advance(ctx, await markImported(ctx.db, ctx.composeId, buildId, ctx.stepLog));
    ctx.logger.info({ koji_build_id: buildId }, "an earlier attempt had imported the build; recorded");
    return true;
  }
  if (build?.id === buildId && build.state === BuildState.BUILDING) return false;
  const state = build ? (BUILD_STATE_NAMES[build.state] ?? String(build.state)) : "absent";
  throw permanentError(
    "KOJI_NVR_CONFLICT",
    `Koji build ${nvrOf(ctx.row)} is ${state}${build ? ` (id=${build.id})` : ""}, not our reservation ${buildId}`,
  );
}
