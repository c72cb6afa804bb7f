import { permanentError, retryableError } from "../../errors.js";
import type { CgMetadata } from "../../schemas/cg-metadata.js";
import { markUploaded, markUploadsWaiting } from "../../store/uploads.js";
import { advance, type ImportContext } from "../context.js";

/** Outputs that are not (wholly) in the upload directory: each with what the hub has, if anything. */
export async function missingUploads(ctx: ImportContext): Promise<string[]> {
  const document = ctx.row.cg_metadata as CgMetadata;
  const directory = ctx.event.koji.upload_directory;
  // Without `verify` checkUpload only stats the file: cheap. The hub checks checksums itself in CGImport.
  const found = await ctx.koji.checkUploads(
    directory,
    document.output.map((output) => output.filename),
  );
  return document.output.flatMap((output, index) => {
    const file = found[index];
    if (!file) return [`${output.filename} (missing)`];
    if (file.size !== output.filesize)
      return [`${output.filename} (${file.size} of ${output.filesize} bytes)`];
    return [];
  });
}

/**
 * Step 6: every output must be in the upload directory with its size. Composer's hub replicas can lag, so a
 * missing or short file is waited for (retryable) up to `uploadWaitMs` from the first miss, then permanent.
 */
export async function checkUploads(ctx: ImportContext): Promise<void> {
  const missing = await missingUploads(ctx);
  if (missing.length === 0) {
    advance(ctx, await markUploaded(ctx.db, ctx.composeId, ctx.stepLog));
    return;
  }
  advance(ctx, await markUploadsWaiting(ctx.db, ctx.composeId));
  const directory = ctx.event.koji.upload_directory;
  const waitedMs = Date.now() - (ctx.row.uploads_waiting_since?.getTime() ?? Date.now());
  const details = { upload_directory: directory, missing };
  if (waitedMs >= ctx.settings.uploadWaitMs) {
    throw permanentError(
      "KOJI_UPLOAD_MISSING",
      `output ${missing.join(", ")} missing from upload directory ${directory}`,
      { details },
    );
  }
  throw retryableError("KOJI_UPLOAD_PENDING", `waiting for uploads in ${directory}: ${missing.join(", ")}`, {
    details,
  });
}
