import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComposerClient } from "../../src/composer/client.js";
import { DONE, expectFailure, FIXTURES_DIR, PENDING, testClient } from "./support.js";

/** `npm run fake:composer -- --fixtures DIR --port N`, run as a person would, then used by the real client. */

const MAIN = new URL("../fakes/composer/main.ts", import.meta.url).pathname;
const TSX = new URL("../../node_modules/.bin/tsx", import.meta.url).pathname;

let child: ChildProcess;
let client: ComposerClient;
let announced: { url: string; composes: string[] };

beforeAll(async () => {
  child = spawn(TSX, [MAIN, "--fixtures", FIXTURES_DIR, "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await once(lines, "line")) as [string];
  announced = JSON.parse(line);
  client = testClient(announced.url);
});

afterAll(async () => {
  await client?.close();
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});

describe("fake composer as its own process", () => {
  it("announces every compose directory it found", () => {
    expect(announced.composes.sort()).toEqual([PENDING, DONE, "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"].sort());
  });

  it("serves the fixtures to the client", async () => {
    await expect(client.getComposeStatus(DONE)).resolves.toMatchObject({ status: "success" });
    await expect(client.getComposeManifests(DONE)).resolves.toMatchObject({ kind: "ComposeManifests" });
    await expectFailure(client.getComposeStatus(PENDING), { code: "COMPOSER_NOT_FINISHED", retryable: true });
  });

  it("stops on SIGTERM", async () => {
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
