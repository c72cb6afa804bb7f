import { permanentError } from "../../errors.js";
import { KojiClient } from "../../koji/client.js";
import type { CgMetadata } from "../../schemas/cg-metadata.js";
import { archiveTypeFor } from "../archive-types.js";
import type { ImportContext } from "../context.js";

/**
 * Step 7: what the hub checks only while it moves the uploaded files into the build. A failure there rolls the
 * build back but the files already moved are gone, so a retry would need fresh uploads; checked here first, a
 * failure leaves the uploads intact (the caller refunds the reservation).
 */
export async function preflight(ctx: ImportContext): Promise<string> {
  const document = ctx.row.cg_metadata as CgMetadata;
  const archiveTypes = await ctx.archiveTypes.types(ctx.koji);
  const problems: string[] = [];
  for (const output of document.output) {
    if (output.type === "log") continue;
    if (archiveTypeFor(archiveTypes, output.filename) === undefined) {
      problems.push(`${output.filename}: extension is not a registered archive type on ${ctx.koji.hubUrl}`);
    }
    if (output.checksum_type !== "md5" && output.checksum_type !== "sha256") {
      problems.push(
        `${output.filename}: checksum_type ${output.checksum_type} (Koji archives take md5 or sha256)`,
      );
    }
    const info = (output.extra as { image?: { arch?: unknown } } | undefined)?.image;
    if (output.type === "image" && typeof info?.arch !== "string") {
      problems.push(`${output.filename}: extra.image has no arch`);
    }
  }
  const json = JSON.stringify(document);
  const request = KojiClient.cgImportRequestBytes(
    json,
    ctx.event.koji.upload_directory,
    ctx.row.koji_token ?? "",
  );
  if (request > ctx.settings.maxMetadataBytes) {
    problems.push(
      `the CGImport request is ${request} bytes (metadata ${Buffer.byteLength(json)}), over the hub's limit of ${ctx.settings.maxMetadataBytes}`,
    );
  }
  if (problems.length > 0) {
    throw permanentError("KOJI_PREFLIGHT", `pre-flight check failed: ${problems.join("; ")}`, {
      details: { problems },
    });
  }
  return json;
}
