import { Writable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import { SCHEMA_VIOLATION_PATHS } from "../fakes/composer/faults.js";
import { generatedBytes } from "../fakes/composer/generated-body.js";
import { type FakeComposer, startFakeComposer } from "../fakes/composer/server.js";
import type { DownloadingComposerClient as ComposerClient } from "../fakes/composer-worker/composer-client.js";
import { DONE, expectFailure, FAST_RETRY, fixtureComposes, testClient } from "./support.js";

const BIG = "b16b16b1-6b16-4b16-8b16-b16b16b16b16";
const BIG_SIZE = 4 * 1024 * 1024;
/** Well past the impatient client's 250 ms timeouts even with undici's coarse timer resolution. */
const SLOW_MS = 3_000;

let fake: FakeComposer;
let client: ComposerClient;
/** Short timeouts so a slow response trips them quickly. */
let impatient: ComposerClient;

beforeAll(async () => {
  fake = await startFakeComposer({ composes: fixtureComposes() });
  fake.addCompose(BIG, { status: { status: "success" }, download: { generatedBytes: BIG_SIZE } });
  client = testClient(fake.url);
  impatient = testClient(fake.url, { timeouts: { connectMs: 1_000, headersMs: 250, bodyMs: 250 } });
});

beforeEach(() => fake.clearFaults());

afterAll(async () => {
  await Promise.all([client.close(), impatient.close()]);
  await fake.close();
});

/** Runs `call` and returns how many requests for the compose's endpoint it took. */
async function callsDuring(endpoint: "status" | "logs" | "download", call: () => Promise<unknown>) {
  const before = fake.counters.calls(DONE, endpoint);
  await call();
  return fake.counters.calls(DONE, endpoint) - before;
}

describe("5xx and 429", () => {
  it("retries 500 for the first 2 calls and succeeds on the third", async () => {
    fake.injectFault(DONE, { kind: "status", status: 500, times: 2 });
    const calls = await callsDuring("status", () => client.getComposeStatus(DONE));
    expect(calls).toBe(3);
  });

  it("gives up after maxRetries with a retryable COMPOSER_HTTP that says how many attempts it took", async () => {
    fake.injectFault(DONE, { kind: "status", status: 503, times: 10 });
    const before = fake.counters.calls(DONE, "status");
    const error = await expectFailure(client.getComposeStatus(DONE), {
      code: "COMPOSER_HTTP",
      retryable: true,
      message:
        /^composer GET \/composes\/\{id\} for compose .*: HTTP 503 \(IMAGE-BUILDER-COMPOSER-10503: Injected HTTP 503\) \(after 4 attempts\)$/,
    });
    expect(error.details).toMatchObject({ status: 503, attempts: 4 });
    expect(fake.counters.calls(DONE, "status") - before).toBe(FAST_RETRY.maxRetries + 1);
  });

  it("honours Retry-After on 429 before retrying", async () => {
    fake.injectFault(DONE, { kind: "status", status: 429, retryAfter: "1" });
    const started = performance.now();
    const calls = await callsDuring("logs", () => client.getComposeLogs(DONE));
    expect(calls).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("hands a Retry-After longer than the policy allows back at once, retryable, with the wait", async () => {
    fake.injectFault(DONE, { kind: "status", status: 429, retryAfter: "3600" });
    const before = fake.counters.calls(DONE, "status");
    const error = await expectFailure(client.getComposeStatus(DONE), {
      code: "COMPOSER_HTTP",
      retryable: true,
    });
    expect(error.details).toMatchObject({ status: 429, retry_after_ms: 3_600_000 });
    expect(fake.counters.calls(DONE, "status") - before).toBe(1);
  });
});

describe("retry logging", () => {
  it("logs each retry as a warning with compose_id, endpoint, code and delay", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: "warn" },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(JSON.parse(chunk.toString("utf8")));
          callback();
        },
      }),
    );
    const logged = testClient(fake.url, { logger });
    try {
      fake.injectFault(DONE, { kind: "status", status: 502, times: 2 });
      await logged.getComposeStatus(DONE);
    } finally {
      await logged.close();
    }
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      compose_id: DONE,
      endpoint: "/composes/{id}",
      code: "COMPOSER_HTTP",
      attempt: 1,
      msg: "composer request failed; retrying",
    });
    expect(lines[1]).toMatchObject({ attempt: 2 });
  });
});

describe("4xx are never retried", () => {
  for (const status of [400, 403, 404, 409]) {
    it(`${status} fails permanent after one request`, async () => {
      fake.injectFault(DONE, { kind: "status", status, times: 5 });
      const before = fake.counters.calls(DONE, "status");
      const error = await expectFailure(client.getComposeStatus(DONE), {
        code: "COMPOSER_HTTP",
        retryable: false,
        message: `HTTP ${status}`,
      });
      expect(error.details).toMatchObject({ status, compose_id: DONE });
      expect(fake.counters.calls(DONE, "status") - before).toBe(1);
    });
  }
});

describe("broken connections and timeouts", () => {
  it("retries a connection dropped before the response and succeeds", async () => {
    fake.injectFault(DONE, { kind: "reset", times: 2 });
    expect(await callsDuring("status", () => client.getComposeStatus(DONE))).toBe(3);
  });

  it("fails with a retryable COMPOSER_UNREACHABLE when every attempt is dropped", async () => {
    fake.injectFault(DONE, { kind: "reset", times: 10 });
    await expectFailure(client.getComposeStatus(DONE), {
      code: "COMPOSER_UNREACHABLE",
      retryable: true,
      message: /after 4 attempts/,
    });
  });

  it("fails with a retryable COMPOSER_UNREACHABLE when nothing listens", async () => {
    const gone = await startFakeComposer();
    const url = gone.url;
    await gone.close();
    const orphan = testClient(url);
    try {
      const error = await expectFailure(orphan.getComposeStatus(DONE), {
        code: "COMPOSER_UNREACHABLE",
        retryable: true,
        message: /ECONNREFUSED/,
      });
      expect(error.details).toMatchObject({ cause_code: "ECONNREFUSED", attempts: 4 });
    } finally {
      await orphan.close();
    }
  });

  it("retries a truncated JSON body and succeeds", async () => {
    fake.injectFault(DONE, { kind: "truncated", endpoint: "logs" });
    expect(await callsDuring("logs", () => client.getComposeLogs(DONE))).toBe(2);
  });

  it("retries a response whose headers are too slow and succeeds", async () => {
    fake.injectFault(DONE, { kind: "slow", delayMs: SLOW_MS, endpoint: "status" });
    expect(await callsDuring("status", () => impatient.getComposeStatus(DONE))).toBe(2);
  });

  it("retries a body that stalls mid-way and succeeds", async () => {
    fake.injectFault(DONE, { kind: "slow", delayMs: SLOW_MS, phase: "body", endpoint: "manifests" });
    await expect(impatient.getComposeManifests(DONE)).resolves.toMatchObject({ kind: "ComposeManifests" });
  });

  it("fails with a retryable COMPOSER_TIMEOUT when every attempt is too slow", async () => {
    fake.injectFault(DONE, { kind: "slow", delayMs: SLOW_MS, times: 10 });
    const once = testClient(fake.url, {
      timeouts: { connectMs: 1_000, headersMs: 250, bodyMs: 250 },
      retry: { ...FAST_RETRY, maxRetries: 1 },
    });
    try {
      const error = await expectFailure(once.getComposeStatus(DONE), {
        code: "COMPOSER_TIMEOUT",
        retryable: true,
        message: /after 2 attempts/,
      });
      expect(error.details).toMatchObject({ cause_code: "UND_ERR_HEADERS_TIMEOUT" });
    } finally {
      await once.close();
    }
  });

  it("stops waiting between retries when the caller aborts, with a retryable COMPOSER_ABORTED", async () => {
    fake.injectFault(DONE, { kind: "status", status: 503, retryAfter: "3", times: 5 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    await expectFailure(client.getComposeStatus(DONE, { signal: controller.signal }), {
      code: "COMPOSER_ABORTED",
      retryable: true,
    });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("bodies that are not what the API promises", () => {
  it("fails a non-JSON 200 permanent with COMPOSER_INVALID_RESPONSE, once", async () => {
    fake.injectFault(DONE, { kind: "not-json", times: 5 });
    const before = fake.counters.calls(DONE, "logs");
    const error = await expectFailure(client.getComposeLogs(DONE), {
      code: "COMPOSER_INVALID_RESPONSE",
      retryable: false,
      message: `composer GET /composes/{id}/logs for compose ${DONE}: body is not JSON (content-type text/html, starts "<html>`,
    });
    expect(error.details).toMatchObject({ endpoint: "/composes/{id}/logs", compose_id: DONE });
    expect(fake.counters.calls(DONE, "logs") - before).toBe(1);
  });

  const calls = {
    status: (c: ComposerClient) => c.getComposeStatus(DONE),
    logs: (c: ComposerClient) => c.getComposeLogs(DONE),
    manifests: (c: ComposerClient) => c.getComposeManifests(DONE),
    sboms: (c: ComposerClient) => c.getComposeSBOMs(DONE),
  };
  for (const [endpoint, call] of Object.entries(calls) as Array<
    [keyof typeof calls, (c: ComposerClient) => Promise<unknown>]
  >) {
    it(`fails a schema-violating ${endpoint} body permanent, naming endpoint, compose and field path`, async () => {
      fake.injectFault(DONE, { kind: "schema-violation", endpoint, times: 5 });
      const path = endpoint === "status" ? "/composes/{id}" : `/composes/{id}/${endpoint}`;
      const field = SCHEMA_VIOLATION_PATHS[endpoint];
      const error = await expectFailure(call(client), {
        code: "COMPOSER_INVALID_RESPONSE",
        retryable: false,
      });
      expect(error.message.startsWith(`composer GET ${path} for compose ${DONE}: invalid `)).toBe(true);
      expect(error.message).toContain(`${field}: `);
      expect(error.details).toMatchObject({ endpoint: path, compose_id: DONE, field });
    });
  }

  it("refuses a JSON body over maxJsonBytes without holding it", async () => {
    const small = testClient(fake.url, { maxJsonBytes: 1024 });
    try {
      await expectFailure(small.getComposeManifests(DONE), {
        code: "COMPOSER_INVALID_RESPONSE",
        retryable: false,
        message: /body larger than 1024 bytes/,
      });
    } finally {
      await small.close();
    }
  });
});

describe("download faults", () => {
  it("retries a 500 before the download starts", async () => {
    fake.injectFault(BIG, { kind: "status", status: 500, endpoint: "download" });
    const download = await client.downloadCompose(BIG);
    expect((await buffer(download.body)).length).toBe(BIG_SIZE);
  });

  it("fails the stream with a retryable COMPOSER_UNREACHABLE when the body breaks off", async () => {
    fake.injectFault(BIG, { kind: "truncated", endpoint: "download" });
    const download = await client.downloadCompose(BIG);
    let received = 0;
    let caught: unknown;
    try {
      for await (const chunk of download.body) received += (chunk as Buffer).length;
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ImporterError);
    expect(caught).toMatchObject({ code: "COMPOSER_UNREACHABLE", retryable: true });
    expect((caught as ImporterError).details).toMatchObject({ compose_id: BIG });
    expect(received).toBeLessThan(BIG_SIZE);
  });

  it("fails the stream with a retryable COMPOSER_TIMEOUT when the body stalls", async () => {
    fake.injectFault(BIG, { kind: "slow", delayMs: SLOW_MS, phase: "body", endpoint: "download" });
    const download = await impatient.downloadCompose(BIG);
    await expect(buffer(download.body)).rejects.toMatchObject({
      code: "COMPOSER_TIMEOUT",
      retryable: true,
      details: { cause_code: "UND_ERR_BODY_TIMEOUT" },
    });
  });

  it("delivers the generated body intact after the faults", async () => {
    const bytes = await buffer((await client.downloadCompose(BIG)).body);
    expect(bytes.equals(generatedBytes(0, BIG_SIZE))).toBe(true);
  });
});
