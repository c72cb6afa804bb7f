import { withBuildId } from "../../core/assemble.js";
import { permanentError } from "../../errors.js";
import { KojiClient } from "../../koji/client.js";
import type { CgMetadata } from "../../schemas/cg-metadata.js";
import { archiveTypeFor } from "../archive-types.js";
import type { ImportContext } from "../context.js";
import { composerReservation } from "./fetch.js";

/**
 * Before the importer's own reservation, the request is measured with the largest one Koji hands out: build ids
 * are a PostgreSQL integer, and tokens 64 hex digits (koji generate_token). Composer's own is known exactly.
 */
const LARGEST_RESERVATION = { buildId: 2_147_483_647, token: "0".repeat(64) };

/**
 * Pre-flight, before any reservation (CGInitBuild, or taking composer's): what the hub checks only while it moves
 * the uploaded files into the build (archive types, arch, checksum types) and the size of the CGImport request
 * against its limit. Checked there, a failure would have cost a reservation (refunded) and, during the file
 * move, the uploads; checked here, it costs neither. Nothing here needs the reservation.
 */
export async function preflight(ctx: ImportContext): Promise<void> {
  const document = ctx.row.cg_metadata as CgMetadata;
  const problems = await outputProblems(ctx, document);
  const { buildId, token } = composerReservation(ctx) ?? LARGEST_RESERVATION;
  const sizeProblem = requestSizeProblem(ctx, JSON.stringify(withBuildId(document, buildId)), token);
  if (sizeProblem) problems.push(sizeProblem);
  refuse(problems);
}

/**
 * The one check that can change once the reservation is in the document (withBuildId) with its token, exact, just
 * before CGImport; it reads no Koji. Returns the document's JSON for CGImport.
 */
export function recheckRequestSize(ctx: ImportContext): string {
  const json = JSON.stringify(ctx.row.cg_metadata as CgMetadata);
  const problem = requestSizeProblem(ctx, json, ctx.row.koji_token ?? "");
  refuse(problem ? [problem] : []);
  return json;
}

function refuse(problems: string[]): void {
  if (problems.length > 0) {
    throw permanentError("KOJI_PREFLIGHT", `pre-flight check failed: ${problems.join("; ")}`, {
      details: { problems },
    });
  }
}

/** Per output: the archive type the hub gives its name, its arch, its checksum type. */
async function outputProblems(ctx: ImportContext, document: CgMetadata): Promise<string[]> {
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
  return problems;
}

function requestSizeProblem(ctx: ImportContext, json: string, token: string): string | undefined {
  const request = KojiClient.cgImportRequestBytes(json, ctx.event.koji.upload_directory, token);
  if (request <= ctx.settings.maxMetadataBytes) return undefined;
  return `the CGImport request is ${request} bytes (metadata ${Buffer.byteLength(json)}), over the hub's limit of ${ctx.settings.maxMetadataBytes} (KOJI_MAX_METADATA_BYTES)`;
}
