import { readFileSync } from "node:fs";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedBytes } from "../fakes/composer/generated-body.js";
import { type FakeComposer, startFakeComposer } from "../fakes/composer/server.js";
import type { DownloadingComposerClient as ComposerClient } from "../fakes/composer-worker/composer-client.js";
import {
  DONE,
  expectFailure,
  FAILED,
  FIXTURES_DIR,
  fixtureComposes,
  PENDING,
  testClient,
  UNKNOWN,
} from "./support.js";

const GENERATED = "5d3c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a";

let fake: FakeComposer;
let client: ComposerClient;

beforeAll(async () => {
  fake = await startFakeComposer({ composes: fixtureComposes() });
  fake.addCompose(GENERATED, { status: { status: "success" }, download: { generatedBytes: 3_000_001 } });
  client = testClient(fake.url);
});

afterAll(async () => {
  await client.close();
  await fake.close();
});

function fixture(composeId: string, name: string): unknown {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}${composeId}/${name}`, "utf8"));
}

describe("GET /composes/{id}", () => {
  it("returns a finished compose's status as composer sent it", async () => {
    const status = await client.getComposeStatus(DONE);
    expect(status).toMatchObject({ status: "success", koji_status: { build_id: 4201 } });
    expect(status.image_statuses).toHaveLength(2);
  });

  it("returns a failed compose's status (failure is an outcome, not an error)", async () => {
    const status = await client.getComposeStatus(FAILED);
    expect(status.status).toBe("failure");
    expect(status.image_status.error?.reason).toBe("osbuild build failed");
  });

  it("fails a pending compose with the retryable COMPOSER_NOT_FINISHED, asked once", async () => {
    const before = fake.counters.calls(PENDING, "status");
    const error = await expectFailure(client.getComposeStatus(PENDING), {
      code: "COMPOSER_NOT_FINISHED",
      retryable: true,
      message: `compose ${PENDING} is still pending`,
    });
    expect(error.details).toMatchObject({ compose_id: PENDING, status: "pending" });
    expect(fake.counters.calls(PENDING, "status") - before).toBe(1);
  });

  it("returns a pending status when the caller allows it", async () => {
    const status = await client.getComposeStatus(PENDING, { allowPending: true });
    expect(status.status).toBe("pending");
    expect(status.image_status.progress).toMatchObject({ done: 2, total: 5 });
  });

  it("fails an unknown compose with a permanent COMPOSER_HTTP naming composer's reason, without retrying", async () => {
    const before = fake.counters.requests;
    const error = await expectFailure(client.getComposeStatus(UNKNOWN), {
      code: "COMPOSER_HTTP",
      retryable: false,
      message: `composer GET /composes/{id} for compose ${UNKNOWN}: HTTP 404 (IMAGE-BUILDER-COMPOSER-15: Compose with given id not found)`,
    });
    expect(error.details).toMatchObject({ status: 404, endpoint: "/composes/{id}", compose_id: UNKNOWN });
    expect(fake.counters.requests - before).toBe(1);
  });

  it("fails a malformed id with a permanent HTTP 400 (and cannot climb out of /composes/)", async () => {
    await expectFailure(client.getComposeStatus("../../openapi"), {
      code: "COMPOSER_HTTP",
      retryable: false,
      message: /HTTP 400/,
    });
  });
});

describe("GET /composes/{id}/logs, /manifests, /sboms", () => {
  it("parses the logs", async () => {
    const logs = await client.getComposeLogs(DONE);
    expect(logs.image_builds).toHaveLength(2);
    expect(logs).toMatchObject(fixture(DONE, "logs.json") as object);
  });

  it("parses the manifests", async () => {
    const manifests = await client.getComposeManifests(DONE);
    expect(manifests.manifests).toHaveLength(2);
    expect(manifests).toMatchObject(fixture(DONE, "manifests.json") as object);
  });

  it("parses the SBOMs", async () => {
    const sboms = await client.getComposeSBOMs(DONE);
    expect(sboms.items).toHaveLength(2);
    expect(sboms.items[0]?.map((s) => s.pipeline_purpose)).toEqual(["buildroot", "image"]);
  });

  it("reports composer's plain-text 404 for a compose without SBOMs", async () => {
    await expectFailure(client.getComposeSBOMs(FAILED), {
      code: "COMPOSER_HTTP",
      retryable: false,
      message: `composer GET /composes/{id}/sboms for compose ${FAILED}: HTTP 404 (Compose ${FAILED} has no sboms)`,
    });
  });
});

describe("GET /composes/{id}/download", () => {
  it("streams the artifact with its length, type and file name", async () => {
    const download = await client.downloadCompose(DONE);
    const expected = readFileSync(`${FIXTURES_DIR}${DONE}/download`);
    expect(download.contentLength).toBe(expected.length);
    expect(download.contentType).toBe("application/octet-stream");
    expect(download.filename).toBe("disk.img");
    expect((await buffer(download.body)).equals(expected)).toBe(true);
  });

  it("streams a generated body byte for byte", async () => {
    const download = await client.downloadCompose(GENERATED);
    const bytes = await buffer(download.body);
    expect(bytes.length).toBe(3_000_001);
    expect(bytes.equals(generatedBytes(0, 3_000_001))).toBe(true);
  });

  it("lets the consumer stop early, and the connection serves the next call", async () => {
    const download = await client.downloadCompose(GENERATED);
    for await (const _chunk of download.body) break;
    expect(download.body.destroyed).toBe(true);
    await expect(client.getComposeStatus(DONE)).resolves.toMatchObject({ status: "success" });
  });

  it("fails a compose without an artifact with a permanent HTTP 404", async () => {
    await expectFailure(client.downloadCompose(PENDING), { code: "COMPOSER_HTTP", retryable: false });
  });
});

describe("connections", () => {
  it("reuses keep-alive connections: a compose's calls, done 5 times, over at most 2 connections", async () => {
    const own = await startFakeComposer({ composes: fixtureComposes() });
    const ownClient = testClient(own.url);
    try {
      for (let round = 0; round < 5; round++) {
        await ownClient.getComposeStatus(DONE);
        await ownClient.getComposeLogs(DONE);
        await ownClient.getComposeManifests(DONE);
        await ownClient.getComposeSBOMs(DONE);
        await buffer((await ownClient.downloadCompose(DONE)).body);
      }
      expect(own.counters.requests).toBe(25);
      // undici's pool may open a second socket when a call follows the previous one within the same tick.
      expect(own.counters.connections).toBeLessThanOrEqual(2);
    } finally {
      await ownClient.close();
      await own.close();
    }
  });

  it("accepts the API root as the server URL as well as the origin", async () => {
    const rooted = testClient(fake.apiUrl);
    try {
      await expect(rooted.getComposeStatus(DONE)).resolves.toMatchObject({ status: "success" });
    } finally {
      await rooted.close();
    }
  });
});
