import type { ComposeStatus, ImageStatus } from "../schemas/composer.js";

/**
 * Readers for the users of imported builds: they take what Koji or composer return (plain JSON) and never
 * assume more than the integration document promises.
 */

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** The build-level image type info maps, the current place first, then the legacy `extra.image`. */
function imageInfoMaps(build: { extra?: unknown }): Json[] {
  const extra = asRecord(build.extra);
  const maps = [asRecord(asRecord(extra?.typeinfo)?.image), asRecord(extra?.image)];
  return maps.filter((map): map is Json => map !== undefined);
}

/**
 * An image's metadata from a Koji build: `extra.typeinfo.image[filename]`, falling back to the legacy
 * `extra.image[filename]`, as the integration document tells clients to read it. `undefined` when neither has it.
 */
export function imageInfo(build: { extra?: unknown }, filename: string): Json | undefined {
  for (const map of imageInfoMaps(build)) {
    const info = asRecord(map[filename]);
    if (info) return info;
  }
  return undefined;
}

export interface ComposeStatusDocument {
  image_statuses: Array<{ status: string; upload_status?: unknown }>;
  koji_build_id: number | null;
  koji_task_id: number | null;
  status: string;
}

/** The `compose-status.json` koji-osbuild attaches to the Koji task, from composer's ComposeStatus. */
export function composeStatusDocument(
  status: ComposeStatus,
  kojiBuildId: number | null,
  kojiTaskId: number | null,
): ComposeStatusDocument {
  const images: ImageStatus[] = status.image_statuses ?? [status.image_status];
  return {
    image_statuses: images.map((image) =>
      image.upload_status
        ? { status: image.status, upload_status: image.upload_status }
        : { status: image.status },
    ),
    koji_build_id: kojiBuildId,
    koji_task_id: kojiTaskId,
    status: status.status,
  };
}

export interface ReproduceStep {
  image: string;
  arch: string | undefined;
  osbuild_version: string | undefined;
  /** The manifest output to download from the build, when the build has one for this image. */
  manifest: string | undefined;
  export_name: string;
  export_filename: string;
  command: string;
  artifact_path: string;
}

/** For each image of a Koji build, the integration document's local rebuild with osbuild. */
export function reproduceCommands(build: { extra?: unknown }): ReproduceStep[] {
  const extra = asRecord(build.extra);
  const manifests = asRecord(extra?.osbuild_manifest) ?? {};
  const filenames = [...new Set(imageInfoMaps(build).flatMap((map) => Object.keys(map)))];
  const steps: ReproduceStep[] = [];
  for (const image of filenames) {
    const info = imageInfo(build, image);
    const artifact = asRecord(info?.osbuild_artifact);
    const exportName = artifact?.export_name;
    const exportFilename = artifact?.export_filename;
    if (typeof exportName !== "string" || typeof exportFilename !== "string") continue;
    const manifestName = `${image}.manifest.json`;
    const manifest = manifestName in manifests ? manifestName : undefined;
    steps.push({
      image,
      arch: typeof info?.arch === "string" ? info.arch : undefined,
      osbuild_version: typeof info?.osbuild_version === "string" ? info.osbuild_version : undefined,
      manifest,
      export_name: exportName,
      export_filename: exportFilename,
      command: `sudo osbuild --output-directory OUTPUT_DIR --store STORE_DIR --export ${exportName} ${manifest ?? "MANIFEST_PATH"}`,
      artifact_path: `OUTPUT_DIR/${exportName}/${exportFilename}`,
    });
  }
  return steps;
}
