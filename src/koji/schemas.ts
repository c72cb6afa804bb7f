import { z } from "zod";

/**
 * Koji's replies, parsed rather than trusted. The shapes come from a Koji 1.35.3 hub's replies as recorded in
 * test/fixtures/koji-wire (test/koji/schemas.test.ts parses them with these schemas) and in the real-hub suite.
 * Objects are loose: the hub adds fields between versions and the importer only names the ones it reads. Dates
 * arrive as strings ("2026-11-24 01:28:16.459511+00:00"), never as dateTime values.
 */

const Id = z.number().int().nonnegative();
const Extra = z.record(z.string(), z.unknown()).nullable();

/** Koji's BUILD_STATES. */
export const BuildState = { BUILDING: 0, COMPLETE: 1, DELETED: 2, FAILED: 3, CANCELED: 4 } as const;
export type BuildStateName = keyof typeof BuildState;
export const BUILD_STATE_NAMES: Readonly<Record<number, BuildStateName>> = {
  0: "BUILDING",
  1: "COMPLETE",
  2: "DELETED",
  3: "FAILED",
  4: "CANCELED",
};

export const LoginReplySchema = z.object({
  "session-id": Id,
  "session-key": z.string().min(1),
  // Hubs before 1.30 do not send it and expect the session in query arguments.
  "header-auth": z.boolean().optional().default(false),
});
export type LoginReply = z.infer<typeof LoginReplySchema>;

export const LoggedInUserSchema = z.looseObject({
  id: Id,
  name: z.string(),
  status: z.number().int(),
  usertype: z.number().int(),
  authtype: z.number().int().optional(),
});
export type LoggedInUser = z.infer<typeof LoggedInUserSchema>;

export const CGInitBuildResultSchema = z.object({
  build_id: Id,
  token: z.string().min(1),
});
export type CGInitBuildResult = z.infer<typeof CGInitBuildResultSchema>;

export const BuildInfoSchema = z.looseObject({
  id: Id,
  build_id: Id.optional(),
  name: z.string(),
  version: z.string(),
  release: z.string(),
  nvr: z.string(),
  epoch: z.number().int().nullable().optional(),
  state: z.number().int().min(0).max(4),
  owner_id: Id.optional(),
  owner_name: z.string().optional(),
  task_id: Id.nullable().optional(),
  cg_id: Id.nullable().optional(),
  cg_name: z.string().nullable().optional(),
  source: z.string().nullable().optional(),
  volume_name: z.string().optional(),
  extra: Extra.optional(),
  creation_time: z.string().nullable().optional(),
  completion_time: z.string().nullable().optional(),
});
export type BuildInfo = z.infer<typeof BuildInfoSchema>;

/** `getBuild(..., strict=False)` answers None for a build it does not know. */
export const MaybeBuildInfoSchema = BuildInfoSchema.nullable();

export const ArchiveInfoSchema = z.looseObject({
  id: Id,
  build_id: Id,
  filename: z.string(),
  size: z.number().int().nonnegative(),
  checksum: z.string(),
  /** Koji's CHECKSUM_TYPES: 0 md5, 1 sha1, 2 sha256. */
  checksum_type: z.number().int(),
  type_name: z.string(),
  btype: z.string(),
  buildroot_id: Id.nullable().optional(),
  extra: Extra.optional(),
});
export type ArchiveInfo = z.infer<typeof ArchiveInfoSchema>;
export const ArchiveListSchema = z.array(ArchiveInfoSchema);

export const ArchiveTypeSchema = z.looseObject({
  id: Id,
  name: z.string(),
  description: z.string().nullable().optional(),
  /** Space-separated, e.g. "tar.gz tgz". */
  extensions: z.string(),
  compression_type: z.string().nullable().optional(),
});
export type ArchiveType = z.infer<typeof ArchiveTypeSchema>;
export const ArchiveTypeListSchema = z.array(ArchiveTypeSchema);

/** `checkUpload`: None when the file is not there; `sumlength`/`hexdigest` only when a verify type was asked for. */
export const CheckUploadResultSchema = z
  .object({
    size: z.number().int().nonnegative(),
    mtime: z.number(),
    sumlength: z.number().int().nonnegative().optional(),
    hexdigest: z.string().optional(),
  })
  .nullable();
export type CheckUploadResult = z.infer<typeof CheckUploadResultSchema>;

/**
 * Reply to `system.multicall`: per call, in order, a one-element array holding its result or a fault struct
 * (the hub's multiCall catches each call's fault so the others still run).
 */
export const MultiCallResultSchema = z.array(
  z.union([z.tuple([z.unknown()]), z.looseObject({ faultCode: z.number().int(), faultString: z.string() })]),
);

export const ApiVersionSchema = z.number().int();
