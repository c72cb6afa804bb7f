import { z } from "zod";
import { permanentError } from "../errors.js";
import { type CallObserver, observeCall } from "../telemetry/calls.js";
import { parseInput } from "../validation.js";
import { KojiFault } from "./faults.js";
import {
  ApiVersionSchema,
  type ArchiveInfo,
  ArchiveListSchema,
  type ArchiveType,
  ArchiveTypeListSchema,
  type BuildInfo,
  BuildInfoSchema,
  BuildState,
  type CGInitBuildResult,
  CGInitBuildResultSchema,
  type CheckUploadResult,
  CheckUploadResultSchema,
  type LoggedInUser,
  LoggedInUserSchema,
  MaybeBuildInfoSchema,
  MultiCallResultSchema,
} from "./schemas.js";
import type { CallOptions, KojiSession } from "./session.js";
import { encodedCallBytes, type XmlRpcValue } from "./xmlrpc/index.js";

/**
 * The hub calls the importer makes, typed: arguments laid out as Koji's Python client sends them and every reply
 * parsed with a zod schema, so a hub answering something unexpected fails with the field named.
 */

export const DEFAULT_CG_NAME = "osbuild";

export type VerifyType = "adler32" | "md5" | "sha256";

export interface Nvr {
  name: string;
  version: string;
  release: string;
}

/** Koji passes keyword arguments as a trailing struct flagged `__starstar` (koji.encode_args). */
function kwargs(values: Record<string, XmlRpcValue>): XmlRpcValue {
  return { ...values, __starstar: true };
}

export class KojiClient {
  constructor(
    readonly session: KojiSession,
    /** The content generator this importer is registered as on the hub. */
    readonly cgName: string = DEFAULT_CG_NAME,
    /** Told of every call (the request metrics); each call also gets a span. */
    private readonly observer?: CallObserver,
    /** Options every call of this client carries (an import's AbortSignal). */
    private readonly defaults: CallOptions = {},
  ) {}

  /** The same hub session, with every call abandoned when `signal` aborts. */
  withSignal(signal: AbortSignal): KojiClient {
    return new KojiClient(this.session, this.cgName, this.observer, { ...this.defaults, signal });
  }

  get hubUrl(): string {
    return this.session.hubUrl.href;
  }

  private async call<S extends z.ZodType>(
    schema: S,
    method: string,
    params: readonly XmlRpcValue[],
    options?: CallOptions,
  ): Promise<z.infer<S>> {
    const call = { system: "koji", method, hub: this.session.hubUrl.href } as const;
    const value = await observeCall(this.observer, call, () =>
      this.session.call(method, params, { ...this.defaults, ...options }),
    );
    return parseInput(schema, value, `Koji ${method} reply`, "KOJI_INVALID_RESPONSE");
  }

  getAPIVersion(): Promise<number> {
    return this.call(ApiVersionSchema, "getAPIVersion", []);
  }

  /** Who the hub thinks we are; null when not logged in (which, through this client, does not happen). */
  getLoggedInUser(): Promise<LoggedInUser | null> {
    return this.call(LoggedInUserSchema.nullable(), "getLoggedInUser", []);
  }

  /** Reserves the NVR for this content generator; the token proves the reservation to CGImport and refunds. */
  CGInitBuild(nvr: Nvr): Promise<CGInitBuildResult> {
    const data = { name: nvr.name, version: nvr.version, release: nvr.release };
    return this.call(CGInitBuildResultSchema, "CGInitBuild", [this.cgName, data], { commits: true });
  }

  /** Gives a reservation back, leaving the build FAILED or CANCELED so its NVR can be reserved again. */
  async CGRefundBuild(
    buildId: number,
    token: string,
    state: "FAILED" | "CANCELED" = "FAILED",
  ): Promise<void> {
    await this.call(z.unknown(), "CGRefundBuild", [this.cgName, buildId, token, BuildState[state]], {
      commits: true,
    });
  }

  /** The owner (or an admin) cancels a build without its token. False when the hub has no such build. */
  cancelBuild(buildId: number): Promise<boolean> {
    return this.call(z.boolean(), "cancelBuild", [buildId], { commits: true });
  }

  /**
   * The size of the CGImport request for this document: the hub refuses a request body over its MaxRequestLength
   * ("Request too long"), and XML escaping makes the body larger than the JSON it carries.
   */
  static cgImportRequestBytes(metadataJson: string, directory: string, token: string): number {
    return encodedCallBytes("CGImport", [metadataJson, directory, token]);
  }

  /**
   * Imports the uploaded directory as the build the metadata describes. The metadata goes as the JSON string it
   * already is (composer's document, possibly amended): no re-encoding, and sizes beyond 2^31 need no i8.
   */
  CGImport(
    metadataJson: string,
    directory: string,
    token: string,
    options: { timeoutMs?: number } = {},
  ): Promise<BuildInfo> {
    return this.call(BuildInfoSchema, "CGImport", [metadataJson, directory, token], {
      ...options,
      commits: true,
    });
  }

  getArchiveTypes(): Promise<ArchiveType[]> {
    return this.call(ArchiveTypeListSchema, "getArchiveTypes", []);
  }

  /** By id or NVR string; null when the hub has no such build. */
  getBuild(build: number | string): Promise<BuildInfo | null> {
    return this.call(MaybeBuildInfoSchema, "getBuild", [build]);
  }

  listArchives(query: { buildID: number }): Promise<ArchiveInfo[]> {
    return this.call(ArchiveListSchema, "listArchives", [kwargs({ buildID: query.buildID })]);
  }

  /** Size (and, when `verify` is given, the digest) of an uploaded file; null when it is not there. */
  checkUpload(path: string, name: string, verify?: VerifyType): Promise<CheckUploadResult> {
    const params: XmlRpcValue[] = [path, name];
    if (verify) params.push(kwargs({ verify }));
    return this.call(CheckUploadResultSchema, "checkUpload", params);
  }

  /**
   * checkUpload (without verify) for several files of one directory in a single request, through
   * `system.multicall`: one round trip, and one session check on the hub, instead of one per file. Results come
   * in the order of `names`; a fault for any file fails the whole check with that file named.
   */
  async checkUploads(path: string, names: readonly string[]): Promise<CheckUploadResult[]> {
    if (names.length === 0) return [];
    const calls = names.map((name) => ({ methodName: "checkUpload", params: [path, name] }));
    const replies = await this.call(MultiCallResultSchema, "system.multicall", [calls]);
    if (replies.length !== names.length) {
      throw permanentError(
        "KOJI_INVALID_RESPONSE",
        `Koji system.multicall reply: ${replies.length} results for ${names.length} checkUpload calls`,
      );
    }
    return replies.map((reply, index) => {
      const name = names[index] as string;
      if (!Array.isArray(reply))
        throw new KojiFault(reply.faultCode, reply.faultString, `checkUpload(${name})`);
      return parseInput(
        CheckUploadResultSchema,
        reply[0],
        `Koji checkUpload reply for ${name}`,
        "KOJI_INVALID_RESPONSE",
      );
    });
  }

  logout(): Promise<void> {
    return this.session.logout();
  }
}
