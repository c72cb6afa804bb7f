import { describe, expect, it } from "vitest";
import { parseBody } from "../../src/composer/json-body.js";
import { ImporterError } from "../../src/errors.js";
import {
  ComposeLogsSchema,
  ComposeManifestsSchema,
  ComposeStatusSchema,
  KojiTargetResultOptionsSchema,
  RpmStagePackageSchema,
} from "../../src/schemas/composer.js";
import { parseInput } from "../../src/validation.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";

function message(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ImporterError) return error.message;
    throw error;
  }
  throw new Error("expected a parse failure");
}

describe("composer response schemas", () => {
  it("parse every sample compose", () => {
    for (const id of Object.values(COMPOSES)) {
      const f = loadCompose(id);
      expect(ComposeStatusSchema.safeParse(f.status).success).toBe(true);
      expect(ComposeLogsSchema.safeParse(f.logs).success).toBe(true);
      expect(ComposeManifestsSchema.safeParse(f.manifests).success).toBe(true);
    }
  });

  it("accept fields a newer composer adds", () => {
    const f = loadCompose(COMPOSES.success);
    const logs = f.logs as { image_builds: Array<Record<string, unknown>> };
    logs.image_builds[0] = { ...logs.image_builds[0], new_field: { a: 1 } };
    const parsed = ComposeLogsSchema.parse({ ...f.logs, brand_new: 1 });
    expect(parsed.image_builds[0]).toHaveProperty("new_field");
  });

  it("reject wrong types and missing required fields with the JSON path", () => {
    const f = loadCompose(COMPOSES.success);
    const logs = f.logs as { image_builds: Array<Record<string, unknown>> };
    (logs.image_builds[1] as Record<string, unknown>).success = "yes";
    expect(message(() => parseInput(ComposeLogsSchema, logs, "GET /composes/x/logs"))).toContain(
      "GET /composes/x/logs: invalid image_builds[1].success: Invalid input: expected boolean",
    );
    const { image_status: _s, ...status } = loadCompose(COMPOSES.success).status;
    expect(message(() => parseInput(ComposeStatusSchema, status, "status"))).toContain("image_status");
    const badStatus = { ...loadCompose(COMPOSES.success).status, status: "done" };
    expect(message(() => parseInput(ComposeStatusSchema, badStatus, "status"))).toContain("invalid status");
  });
});

describe("composer answers the importer stores and sends to Koji", () => {
  const label = { method: "GET", endpoint: "/composes/{id}/logs", composeId: "c1" } as const;

  it("refuse a string PostgreSQL cannot store, naming its path", () => {
    const f = loadCompose(COMPOSES.success);
    const logs = structuredClone(f.logs) as {
      image_builds: Array<{ target_results: Array<{ options: { image: { filename: string } } }> }>;
    };
    const image = logs.image_builds[0]?.target_results[0]?.options.image as { filename: string };
    image.filename = `disk\u0000.qcow2`;
    expect(message(() => parseBody(ComposeLogsSchema, logs, label))).toBe(
      "composer GET /composes/{id}/logs for compose c1: invalid image_builds[0].target_results[0].options.image.filename: holds a NUL character (U+0000), which PostgreSQL cannot store",
    );
    expect(message(() => parseBody(ComposeLogsSchema, { ...f.logs, "a\u0000": 1 }, label))).toContain(
      "invalid a\u0000: holds a NUL character (U+0000) in its key",
    );
    expect(message(() => parseBody(ComposeLogsSchema, { ...f.logs, x: ["\ud800"] }, label))).toContain(
      "invalid x[0]: holds a lone surrogate",
    );
  });

  it("refuse an output file name Koji cannot keep, and control characters in what becomes CG metadata", () => {
    const options = {
      image: { filename: `${"a".repeat(1000)}.qcow2`, checksum_type: "sha256", checksum: "0", size: 1 },
    };
    expect(message(() => parseInput(KojiTargetResultOptionsSchema, options, "options"))).toContain(
      "options: invalid image.filename: is 1006 bytes long, over 255 (NAME_MAX): Koji stores each output as a file",
    );
    const rpm = { name: "bash\u0001", version: "5", release: "1", arch: "x86_64", sigmd5: "00" };
    expect(message(() => parseInput(RpmStagePackageSchema, rpm, "package"))).toBe(
      "package: invalid name: must not contain a control character (U+0001 at index 4)",
    );
  });
});
