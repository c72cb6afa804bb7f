import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  ArchiveListSchema,
  ArchiveTypeListSchema,
  CGInitBuildResultSchema,
  CheckUploadResultSchema,
  LoggedInUserSchema,
  LoginReplySchema,
  MaybeBuildInfoSchema,
} from "../../src/koji/schemas.js";
import { decodeCall, decodeResponse } from "../../src/koji/xmlrpc/index.js";
import { readCaptures } from "./wire-captures.js";

/** The reply schema of each method the captures hold a reply of (src/koji/schemas.ts says they come from these). */
const REPLY_SCHEMAS: Record<string, z.ZodType> = {
  sslLogin: LoginReplySchema,
  getLoggedInUser: LoggedInUserSchema.nullable(),
  CGInitBuild: CGInitBuildResultSchema,
  getBuild: MaybeBuildInfoSchema,
  listArchives: ArchiveListSchema,
  checkUpload: CheckUploadResultSchema,
};

const replies = readCaptures().flatMap((capture) => {
  if (capture.request.headers["content-type"] !== "text/xml") return [];
  const method = decodeCall(capture.request.body).methodName;
  const reply = decodeResponse(capture.response.body);
  const schema = REPLY_SCHEMAS[method];
  return schema && reply.kind === "result"
    ? [{ file: capture.file, method, schema, value: reply.value }]
    : [];
});

describe("Koji's reply schemas against the real hub's recorded replies (test/fixtures/koji-wire)", () => {
  it("has a recorded reply of every method with a schema", () => {
    expect(new Set(replies.map((r) => r.method))).toEqual(new Set(Object.keys(REPLY_SCHEMAS)));
  });

  it.each(replies.map((r) => [`${r.file} ${r.method}`, r] as const))("%s parses", (_name, reply) => {
    expect(reply.schema.safeParse(reply.value).error).toBeUndefined();
  });

  it("getArchiveTypes.json parses", () => {
    const types = JSON.parse(
      readFileSync(new URL("../fixtures/koji-wire/getArchiveTypes.json", import.meta.url), "utf8"),
    );
    expect(ArchiveTypeListSchema.safeParse(types).error).toBeUndefined();
  });
});
