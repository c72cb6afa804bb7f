import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { permanentError, retryableError, toImporterError } from "../../src/errors.js";
import { type RetryPolicy, shouldRetry } from "../../src/pipeline/decide.js";

const defaults = loadConfig({});
const policy: RetryPolicy = {
  maxAttempts: defaults.MAX_ATTEMPTS,
  retryDelaysMs: defaults.RETRY_DELAYS,
  unexpectedRetryMs: defaults.UNEXPECTED_RETRY_WINDOW,
};

/** The attempt on which a failure that repeats on every attempt is dead-lettered. */
function lastAttempt(error: Parameters<typeof shouldRetry>[0], p = policy): number {
  let attempt = 1;
  while (shouldRetry(error, attempt, p)) attempt++;
  return attempt;
}

describe("retry or dead letter", () => {
  it("a known retryable error uses the whole ladder up to MAX_ATTEMPTS", () => {
    expect(lastAttempt(retryableError("KOJI_UNREACHABLE", "hub down"))).toBe(8);
  });

  it("a permanent error ends on the first attempt", () => {
    expect(lastAttempt(permanentError("EVENT_INVALID", "bad"))).toBe(1);
  });

  it("an error the importer does not know is retried only within UNEXPECTED_RETRY_WINDOW, not for hours", () => {
    const error = toImporterError(new Error("something nobody classified"));
    expect(error.code).toBe("UNEXPECTED");
    // With the defaults (10s,1m,10m,1h and 2m): retried after 10 s and after 1 m more, then dead-lettered.
    expect(lastAttempt(error)).toBe(3);
    expect(lastAttempt(error, { ...policy, unexpectedRetryMs: 5_000 })).toBe(1);
    expect(lastAttempt(error, { ...policy, retryDelaysMs: [100], unexpectedRetryMs: 250 })).toBe(3);
    // Never past MAX_ATTEMPTS, however wide the window.
    expect(lastAttempt(error, { ...policy, unexpectedRetryMs: 10 * 3_600_000 })).toBe(8);
  });

  it("an UNEXPECTED after a long run of known retries is dead-lettered at once", () => {
    const error = toImporterError(new TypeError("x is undefined"));
    expect(shouldRetry(error, 5, policy)).toBe(false);
  });
});
