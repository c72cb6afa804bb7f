import { z } from "zod";
import { KojiFilenameSchema, kojiText } from "./koji-text.js";

/**
 * What the importer reads from the osbuild-composer Cloud API v2 (`/api/image-builder-composer/v2`). Objects are
 * loose: composer adds fields over time and an importer that rejected them would stop at every composer upgrade.
 * Wrong types and missing required fields still fail, with the JSON path in the message. A field that becomes
 * part of the Koji build (a file name, a checksum, an arch, a package's NEVRA) is Koji text: no control
 * characters, and a file name Koji can keep as a file.
 */

const ObjectReference = { id: z.string(), kind: z.string(), href: z.string() };

export const ComposeStatusValueSchema = z.enum(["success", "failure", "pending"]);
export const ImageStatusValueSchema = z.enum([
  "success",
  "failure",
  "pending",
  "building",
  "uploading",
  "registering",
]);

export const UploadStatusSchema = z.looseObject({
  status: z.enum(["success", "failure", "pending", "running"]),
  type: z.string(),
  options: z.record(z.string(), z.unknown()),
});

export const ComposeStatusErrorSchema = z.looseObject({
  id: z.number().int(),
  reason: z.string(),
  details: z.unknown().optional(),
});

export const ImageStatusSchema = z.looseObject({
  status: ImageStatusValueSchema,
  upload_status: UploadStatusSchema.optional(),
  upload_statuses: z.array(UploadStatusSchema).optional(),
  error: ComposeStatusErrorSchema.optional(),
});
export type ImageStatus = z.infer<typeof ImageStatusSchema>;

/** `GET /composes/{id}` */
export const ComposeStatusSchema = z.looseObject({
  ...ObjectReference,
  status: ComposeStatusValueSchema,
  image_status: ImageStatusSchema,
  image_statuses: z.array(ImageStatusSchema).optional(),
  koji_status: z.looseObject({ build_id: z.number().int().optional() }).optional(),
});
export type ComposeStatus = z.infer<typeof ComposeStatusSchema>;

// --- osbuild job results (the items of ComposeLogs.image_builds) ---

export const OsbuildArtifactSchema = z.looseObject({
  export_filename: kojiText(),
  export_name: kojiText(),
});
export type OsbuildArtifact = z.infer<typeof OsbuildArtifactSchema>;

/** Size and checksum of one file composer's worker uploaded to Koji's upload directory. */
export const KojiUploadedFileSchema = z.looseObject({
  filename: KojiFilenameSchema,
  checksum_type: kojiText().min(1),
  checksum: kojiText().min(1),
  size: z.number().int().nonnegative(),
});
export type KojiUploadedFile = z.infer<typeof KojiUploadedFileSchema>;

export const OsbuildComposerDepSchema = z.looseObject({
  path: kojiText(),
  version: kojiText(),
  replace: z.looseObject({ path: kojiText(), version: kojiText() }).optional(),
});

export const OsbuildManifestInfoSchema = z.looseObject({
  osbuild_composer_version: kojiText(),
  osbuild_composer_deps: z.array(OsbuildComposerDepSchema),
});
export type OsbuildManifestInfo = z.infer<typeof OsbuildManifestInfoSchema>;

export const KojiTargetResultOptionsSchema = z.looseObject({
  image: KojiUploadedFileSchema,
  log: KojiUploadedFileSchema.optional(),
  osbuild_manifest: KojiUploadedFileSchema.optional(),
  sbom_docs: z.array(KojiUploadedFileSchema).optional(),
  osbuild_manifest_info: OsbuildManifestInfoSchema.optional(),
});
export type KojiTargetResultOptions = z.infer<typeof KojiTargetResultOptionsSchema>;

export const KOJI_TARGET_NAME = "org.osbuild.koji";

export const TargetErrorSchema = z.looseObject({ id: z.number().int(), reason: z.string() });

/** Any target result; the Koji one's options are checked by KojiTargetResultOptionsSchema when it is picked. */
export const TargetResultSchema = z.looseObject({
  name: z.string().min(1),
  options: z.unknown().optional(),
  osbuild_artifact: OsbuildArtifactSchema.optional(),
  target_error: TargetErrorSchema.nullish(),
});
export type TargetResult = z.infer<typeof TargetResultSchema>;

/**
 * One package as osbuild's `org.osbuild.rpm` stage reports it. Its other keys (payloadhash, checksum, ...) are
 * dropped, not kept: nothing reads them, and a compose lists thousands of packages, each parsed on its own (a loose
 * object copies every unknown key of each).
 */
export const RpmStagePackageSchema = z.object({
  name: kojiText(),
  version: kojiText(),
  release: kojiText(),
  epoch: z.union([z.number().int(), kojiText()]).nullish(),
  arch: kojiText(),
  sigmd5: kojiText(),
  sigpgp: kojiText().nullish(),
  siggpg: kojiText().nullish(),
});
export type RpmStagePackage = z.infer<typeof RpmStagePackageSchema>;

export const OsbuildOutputSchema = z.looseObject({
  success: z.boolean(),
  log: z.unknown().optional(),
  /** pipeline name → stage name → that stage's metadata */
  metadata: z.record(z.string(), z.record(z.string(), z.unknown())).nullish(),
});

export const JobErrorSchema = z.looseObject({
  id: z.number().int(),
  reason: z.string(),
  details: z.unknown().optional(),
});

export const BootModeSchema = z.enum(["legacy", "uefi", "hybrid", "none"]);

export const OsbuildJobResultSchema = z.looseObject({
  success: z.boolean(),
  osbuild_output: OsbuildOutputSchema.nullish(),
  target_results: z.array(TargetResultSchema).nullish(),
  pipeline_names: z.looseObject({ build: z.array(z.string()), payload: z.array(z.string()) }).nullish(),
  host_os: kojiText().optional(),
  arch: kojiText().optional(),
  image_boot_mode: BootModeSchema.optional(),
  osbuild_version: kojiText().optional(),
  job_error: JobErrorSchema.nullish(),
});
export type OsbuildJobResult = z.infer<typeof OsbuildJobResultSchema>;

/** Composer's koji-init job result: the CGInitBuild reservation composer made, when it made one. */
export const KojiInitResultSchema = z.looseObject({
  build_id: z.number().int().nonnegative().optional(),
  token: z.string().optional(),
  koji_error: z.string().optional(),
  job_error: JobErrorSchema.nullish(),
});

/** `GET /composes/{id}/logs` */
export const ComposeLogsSchema = z.looseObject({
  ...ObjectReference,
  image_builds: z.array(OsbuildJobResultSchema),
  koji: z.looseObject({ init: KojiInitResultSchema, import: z.unknown() }).optional(),
});
export type ComposeLogs = z.infer<typeof ComposeLogsSchema>;

/** `GET /composes/{id}/manifests`: one osbuild manifest per image build, opaque to the importer. */
export const ComposeManifestsSchema = z.looseObject({
  ...ObjectReference,
  manifests: z.array(z.record(z.string(), z.unknown())),
});
export type ComposeManifests = z.infer<typeof ComposeManifestsSchema>;

export const ImageSbomSchema = z.looseObject({
  sbom: z.record(z.string(), z.unknown()),
  sbom_type: z.literal("spdx"),
  pipeline_name: z.string(),
  pipeline_purpose: z.enum(["buildroot", "image"]),
});

/** `GET /composes/{id}/sboms` */
export const ComposeSBOMsSchema = z.looseObject({
  ...ObjectReference,
  items: z.array(z.array(ImageSbomSchema)),
});
export type ComposeSBOMs = z.infer<typeof ComposeSBOMsSchema>;
