import { expect } from "vitest";
import type { ComposerClientOptions } from "../../src/composer/options.js";
import { ImporterError } from "../../src/errors.js";
import { loadComposeFixtures } from "../fakes/composer/fixtures.js";
import type { ComposeBodies } from "../fakes/composer/server.js";
import { DownloadingComposerClient } from "../fakes/composer-worker/composer-client.js";

export const FIXTURES_DIR = new URL("./fixtures/", import.meta.url).pathname;
/** A finished Koji compose with two images, SBOMs and a small download. */
export const DONE = "8c6b1f5e-3f0d-4d8e-9a43-2f6f0e6b9c11";
/** Still building. */
export const PENDING = "1f0a2b3c-4d5e-4f60-8a71-b2c3d4e5f607";
/** Failed in osbuild. */
export const FAILED = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d";
/** A well-formed id composer has never heard of. */
export const UNKNOWN = "00000000-0000-4000-8000-000000000000";

export function fixtureComposes(): Record<string, ComposeBodies> {
  return Object.fromEntries(loadComposeFixtures(FIXTURES_DIR));
}

/** Fast, predictable retries: tests measure behaviour, not patience. */
export const FAST_RETRY = { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 5_000 };

export function testClient(
  url: string,
  overrides: Partial<ComposerClientOptions> = {},
): DownloadingComposerClient {
  return new DownloadingComposerClient({
    url,
    auth: { mode: "none" },
    retry: FAST_RETRY,
    timeouts: { connectMs: 2_000, headersMs: 2_000, bodyMs: 2_000 },
    random: () => 0.5,
    ...overrides,
  });
}

/** Awaits a rejection and checks it is the ImporterError the caller expects; returns it for further checks. */
export async function expectFailure(
  promise: Promise<unknown>,
  expected: { code: string; retryable: boolean; message?: RegExp | string },
): Promise<ImporterError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected a rejection").toBeInstanceOf(ImporterError);
  const error = caught as ImporterError;
  expect({ code: error.code, retryable: error.retryable }, error.message).toEqual({
    code: expected.code,
    retryable: expected.retryable,
  });
  if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
  return error;
}
