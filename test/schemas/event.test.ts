import { describe, expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import { isKojiEvent, parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { seedEvent } from "../core/seed.js";

function rejection(input: unknown): ImporterError {
  try {
    parseComposeFinishedEvent(input);
  } catch (error) {
    if (error instanceof ImporterError) return error;
    throw error;
  }
  throw new Error("expected the event to be rejected");
}

describe("compose-finished event v1", () => {
  it("accepts a Koji event and a non-Koji event, keeping unknown fields", () => {
    const event = parseComposeFinishedEvent({ ...seedEvent(), extension: true });
    expect(isKojiEvent(event)).toBe(true);
    expect(event).toHaveProperty("extension", true);
    const { koji: _koji, ...plain } = seedEvent();
    expect(isKojiEvent(parseComposeFinishedEvent(plain))).toBe(false);
  });

  it("rejects an unknown version with its own code and a clear reason", () => {
    const error = rejection({ ...seedEvent(), version: 2 });
    expect(error.code).toBe("EVENT_UNSUPPORTED_VERSION");
    expect(error.message).toBe("event: unsupported version 2 (this importer reads version 1)");
    expect(error.retryable).toBe(false);
  });

  it.each([
    ["compose_id", { compose_id: "not-a-uuid" }, "compose_id"],
    ["status", { status: "pending" }, "status"],
    ["submitted_at", { submitted_at: "yesterday" }, "submitted_at"],
    ["type", { type: "compose.started" }, "type"],
    ["koji.task_id", { koji: { ...seedEvent().koji, task_id: "42" } }, "koji.task_id"],
    ["koji.server", { koji: { ...seedEvent().koji, server: "ftp://koji" } }, "koji.server"],
    ["koji.release", { koji: { ...seedEvent().koji, release: "1-2" } }, "koji.release: must not contain '-'"],
    [
      "koji.upload_directory",
      { koji: { ...seedEvent().koji, upload_directory: "../etc" } },
      "koji.upload_directory",
    ],
  ])("names the field when %s is wrong", (_name, change, field) => {
    const error = rejection({ ...seedEvent(), ...change });
    expect(error.code).toBe("EVENT_INVALID");
    expect(error.message).toContain(`event: invalid ${field}`);
  });

  it("names a missing field and rejects what is not an object", () => {
    const { finished_at: _f, ...missing } = seedEvent();
    expect(rejection(missing).message).toContain("finished_at");
    expect(rejection("text").message).toContain("event: invalid (root)");
  });
});
