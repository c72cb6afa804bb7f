import { describe, expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import {
  ComposeLogsSchema,
  ComposeManifestsSchema,
  ComposeStatusSchema,
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
