import { z } from "zod";
import { KojiFilenameSchema } from "./koji-text.js";

/**
 * The Koji content-generator import document (`metadata_version` 0), with the rules Koji's hub applies to it
 * stated here, so a document the assembler builds is checked before it travels: a hub rejection after CGInitBuild
 * costs a reservation, and one during the file move costs the uploads.
 */

const CHECKSUM_PATTERNS: Record<string, RegExp> = {
  md5: /^[0-9a-f]{32}$/,
  sha256: /^[0-9a-f]{64}$/,
  adler32: /^[0-9a-f]{8}$/,
};

export const RpmComponentSchema = z.object({
  type: z.literal("rpm"),
  name: z.string().min(1),
  version: z.string().min(1),
  release: z.string().min(1),
  epoch: z.union([z.string(), z.number().int()]).nullish(),
  arch: z.string().min(1),
  sigmd5: z.string(),
  signature: z.string().nullable(),
});
export type RpmComponent = z.infer<typeof RpmComponentSchema>;

const FileComponentSchema = z.looseObject({
  type: z.literal("file"),
  filename: z.string().min(1),
  filesize: z.number().int().nonnegative(),
  checksum: z.string(),
  checksum_type: z.string(),
});

const KojiFileComponentSchema = z.looseObject({
  type: z.literal("kojifile"),
  filename: z.string().min(1),
  filesize: z.number().int().nonnegative(),
  checksum: z.string(),
  checksum_type: z.string(),
  archive_id: z.number().int(),
  nvr: z.string(),
});

export const ComponentSchema = z.discriminatedUnion("type", [
  RpmComponentSchema,
  FileComponentSchema,
  KojiFileComponentSchema,
]);

export const BuildrootSchema = z.object({
  id: z.number().int().nonnegative(),
  host: z.object({ os: z.string().min(1), arch: z.string().min(1) }),
  content_generator: z.object({ name: z.string().min(1), version: z.string().min(1) }),
  container: z.object({ type: z.string().min(1), arch: z.string().min(1) }),
  tools: z.array(z.looseObject({ name: z.string(), version: z.string() })),
  components: z.array(ComponentSchema),
});
export type Buildroot = z.infer<typeof BuildrootSchema>;

export const OutputSchema = z
  .looseObject({
    buildroot_id: z.number().int().nonnegative(),
    filename: KojiFilenameSchema,
    filesize: z.number().int().nonnegative(),
    arch: z.string().min(1),
    checksum_type: z.enum(["md5", "sha256", "adler32"]),
    checksum: z.string(),
    type: z.string().min(1),
    components: z.array(ComponentSchema).optional(),
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((output, ctx) => {
    const pattern = CHECKSUM_PATTERNS[output.checksum_type];
    if (pattern && !pattern.test(output.checksum)) {
      ctx.addIssue({
        code: "custom",
        path: ["checksum"],
        message: `is not a ${output.checksum_type} checksum (lower-case hex)`,
      });
    }
  });
export type Output = z.infer<typeof OutputSchema>;

export const BuildSchema = z.looseObject({
  build_id: z.number().int().positive().optional(),
  task_id: z.number().int().positive().optional(),
  name: z.string().min(1),
  version: z.string().min(1),
  release: z.string().min(1),
  source: z.string(),
  start_time: z.number().int().nonnegative(),
  end_time: z.number().int().nonnegative(),
  extra: z.record(z.string(), z.unknown()),
});

export const CgMetadataSchema = z
  .object({
    metadata_version: z.literal(0),
    build: BuildSchema,
    buildroots: z.array(BuildrootSchema),
    output: z.array(OutputSchema),
  })
  .superRefine((doc, ctx) => {
    const seen = new Map<string, number>();
    doc.output.forEach((output, index) => {
      const first = seen.get(output.filename);
      if (first !== undefined) {
        const what = output.type === "log" ? "log output" : "output";
        ctx.addIssue({
          code: "custom",
          path: ["output", index, "filename"],
          message: `duplicate ${what} filename ${output.filename} (first at output[${first}])`,
        });
      } else {
        seen.set(output.filename, index);
      }
    });
    const buildrootIds = new Set(doc.buildroots.map((root) => root.id));
    doc.output.forEach((output, index) => {
      if (!buildrootIds.has(output.buildroot_id)) {
        ctx.addIssue({
          code: "custom",
          path: ["output", index, "buildroot_id"],
          message: `names buildroot ${output.buildroot_id}, which the document does not have`,
        });
      }
    });
  });
export type CgMetadata = z.infer<typeof CgMetadataSchema>;
