import { describe, expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import {
  composeIdOfBody,
  isKojiEvent,
  MAX_EVENT_DEPTH,
  parseComposeFinishedEvent,
  parseEventBody,
} from "../../src/schemas/event.js";
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
  it("accepts a Koji event and a non-Koji event, dropping unknown fields", () => {
    const event = parseComposeFinishedEvent({
      ...seedEvent(),
      extension: "x".repeat(1000),
      koji: { ...seedEvent().koji, padding: [1, 2] },
    });
    expect(isKojiEvent(event)).toBe(true);
    expect(event).not.toHaveProperty("extension");
    expect(event.koji).not.toHaveProperty("padding");
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
    [
      "koji.upload_directory with '..' after the prefix",
      { koji: { ...seedEvent().koji, upload_directory: "osbuild-cg/../../etc" } },
      "koji.upload_directory: must be relative to Koji's work directory: a '..' segment (segment 1)",
    ],
    [
      "koji.upload_directory with an empty segment",
      { koji: { ...seedEvent().koji, upload_directory: "osbuild-cg//x" } },
      "koji.upload_directory: must be relative to Koji's work directory: an empty segment (segment 1)",
    ],
    [
      "koji.name with a control character",
      { koji: { ...seedEvent().koji, name: "Fedora\u0001Cloud" } },
      "koji.name: must not contain a control character (U+0001 at index 6)",
    ],
    [
      "koji.version with NUL",
      { koji: { ...seedEvent().koji, version: "42\u0000" } },
      "koji.version: must not contain a control character (U+0000 at index 2)",
    ],
    [
      "koji.release with a lone surrogate",
      { koji: { ...seedEvent().koji, release: "1.\ud800" } },
      "koji.release: must not contain a character Koji cannot store (U+D800 at index 2)",
    ],
    [
      "koji.upload_directory with a newline",
      { koji: { ...seedEvent().koji, upload_directory: "osbuild-cg/a\nb" } },
      "koji.upload_directory: must not contain a control character (U+000A at index 12)",
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

describe("an event body from the queue", () => {
  const limit = 64 * 1024;
  const reject = (body: Buffer, maxBytes = limit): ImporterError => {
    try {
      parseEventBody(body, maxBytes);
    } catch (error) {
      if (error instanceof ImporterError) return error;
      throw error;
    }
    throw new Error("expected the body to be rejected");
  };

  it("over MAX_EVENT_BYTES is refused unread, naming the limit", () => {
    const body = Buffer.from(JSON.stringify({ ...seedEvent(), padding: "x".repeat(limit) }));
    const error = reject(body);
    expect(error.code).toBe("EVENT_TOO_LARGE");
    expect(error.message).toBe(
      `event: ${body.length} bytes, over the limit MAX_EVENT_BYTES=${limit}; not read`,
    );
    expect(error.retryable).toBe(false);
    expect(composeIdOfBody(body, limit)).toBeUndefined();
  });

  it("nested 100 000 levels deep is refused before it is parsed, naming the limit", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const body = Buffer.from(JSON.stringify(seedEvent()).replace(/}$/, `,"extra":${deep}}`));
    const error = reject(body, 1024 * 1024);
    expect(error.code).toBe("EVENT_TOO_DEEP");
    expect(error.message).toBe(
      `event: nested deeper than the limit of ${MAX_EVENT_DEPTH} levels; not parsed`,
    );
  });

  it("brackets inside strings do not count as nesting", () => {
    const body = Buffer.from(JSON.stringify({ ...seedEvent(), note: '[[[[{{{{\\"'.repeat(20) }));
    expect(parseEventBody(body, limit).compose_id).toBe(seedEvent().compose_id);
  });
});
