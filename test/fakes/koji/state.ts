import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { posix } from "node:path";
import { kojiFaultName } from "../../../src/koji/faults.js";
import { Adler32 } from "../adler32.js";

/** A fault the fake hub answers with: Koji's code (1 for a Python exception inside the hub) and text. */
export class HubFault extends Error {
  /** The Python class the hub raised, for a traceback: `koji.GenericError`, `KeyError`, ... */
  readonly exceptionClass: string;
  /** str() of the exception's arguments, joined: what multiCall answers as the faultString. */
  readonly argsText: string;

  constructor(
    readonly faultCode: number,
    readonly faultString: string,
    python?: { cls: string; args: string },
  ) {
    super(faultString);
    this.exceptionClass = python?.cls ?? `koji.${kojiFaultName(faultCode)}`;
    this.argsText = python?.args ?? faultString;
  }
}

export const GenericError = (text: string) => new HubFault(1000, text);
export const LockError = (text: string) => new HubFault(1001, text);
export const AuthError = (text: string) => new HubFault(1002, text);
export const ActionNotAllowed = (text: string) => new HubFault(1004, text);
export const AuthExpired = (text: string) => new HubFault(1007, text);
export const SequenceError = (text: string) => new HubFault(1008, text);
export const RetryError = (text: string) => new HubFault(1009, text);
/** What the hub answers when Python raises inside it: fault 1, `<class 'KeyError'>: 'source'`. */
export const PythonError = (cls: string, text: string, args = text) =>
  new HubFault(1, `<class '${cls}'>: ${text}`, { cls, args });
export const KeyErrorFault = (key: string) => PythonError("KeyError", `'${key}'`, key);

export const BUILD_STATES = ["BUILDING", "COMPLETE", "DELETED", "FAILED", "CANCELED"] as const;
export const STATE = { BUILDING: 0, COMPLETE: 1, DELETED: 2, FAILED: 3, CANCELED: 4 } as const;

export interface User {
  id: number;
  name: string;
  admin: boolean;
  cgs: Set<string>;
}

export interface Session {
  id: number;
  key: string;
  user: User;
  createdAt: number;
  /** Past the hub's renewal timeout: every call on it is AuthExpired from then on. */
  expired: boolean;
  /** Koji stores the callnum only when a call commits; the next call must be higher. */
  lastCommittedCallnum: number | null;
}

export interface Archive {
  id: number;
  build_id: number;
  filename: string;
  size: number;
  checksum: string;
  checksum_type: number;
  type_name: string;
  btype: string;
  buildroot_id: number;
  extra: Record<string, unknown> | null;
}

export interface Build {
  id: number;
  name: string;
  version: string;
  release: string;
  state: number;
  owner: User;
  cg: string;
  task_id: number | null;
  token: string | null;
  extra: Record<string, unknown> | null;
  source: string | null;
  package_id: number;
  creation_event_id: number;
  start_time: string;
  creation_time: string;
  completion_time: string | null;
  archives: Archive[];
  logs: string[];
  metadata: unknown;
  /** RPM components the import matched (N-V-R.A), by buildroot id and by output filename. */
  rpmComponents: { buildroots: Record<string, string[]>; archives: Record<string, string[]> };
  /** The build's data/logs/cg_import.log, written when the import had something to note (unmatched components). */
  cgImportLog: string | null;
}

/**
 * One uploaded file, on disk under the hub's work directory as Koji keeps it under /mnt/koji/work: memory stays
 * flat however much is uploaded (the upload bench sends GiBs), and the hub's own file semantics come for free.
 */
export interface UploadedFile {
  path: string;
  size: number;
  mtime: number;
  locked: boolean;
}

/** An RPM the hub knows (built in Koji or added as external), by which CG components are matched. */
export interface KnownRpm {
  name: string;
  version: string;
  release: string;
  arch: string;
  sigmd5: string;
}

export interface UploadDir {
  owner: number;
  files: Map<string, UploadedFile>;
}

/** An upload directory as the hub names it: normalized (get_upload_path), without a trailing slash. */
export function uploadDirKey(path: string): string {
  return posix.normalize(path).replace(/\/+$/, "");
}

/**
 * fileDigest's read buffer. The function reads synchronously, so one buffer serves every call: a fresh 1 MiB one
 * per call (16 an import: the checkUpload multicall and CGImport each read every output) counted as external
 * memory, and V8 answered it with a full collection of the fakes' heap several times a second, which made the
 * fakes the largest CPU user of the benches' machine.
 */
const DIGEST_READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);

/** The digest the hub computes over a whole uploaded file (checkUpload's verify, CGImport's checksums). */
export function fileDigest(file: UploadedFile, type: "md5" | "sha256" | "adler32"): string {
  const hash = type === "adler32" ? new Adler32() : createHash(type);
  const buffer = DIGEST_READ_BUFFER;
  const fd = openSync(file.path, "r");
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer))
      hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash instanceof Adler32 ? hash.hexdigest() : hash.digest("hex");
}

/** Koji's date strings: "2025-07-02 16:29:15.123456+00:00". */
export function kojiDate(date = new Date()): string {
  return `${date.toISOString().replace("T", " ").replace("Z", "")}000+00:00`;
}

export const nvrOf = (b: { name: string; version: string; release: string }) =>
  `${b.name}-${b.version}-${b.release}`;
