import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import type { Channel } from "amqplib";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventPublisher, type TopologyNames } from "../../src/queue/index.js";
import { parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { createPool, recordEvent, runMigrations } from "../../src/store/index.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { createTestDatabase, type TestDatabase, testAmqpUrl } from "../support/servers.js";
import { createTestTopology, type TestTopology } from "../support/topology.js";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;
let database: TestDatabase;
let pool: pg.Pool;
let names: TopologyNames;
let topology: TestTopology;
let channel: Channel;
let env: Record<string, string>;

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", `${ROOT}src/cli.ts`, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  database = await createTestDatabase("ops");
  await runMigrations(database.url);
  pool = createPool(database.url, 2);
  topology = await createTestTopology("ops");
  ({ names, channel } = topology);
  env = {
    DATABASE_URL: database.url,
    AMQP_URL: testAmqpUrl(),
    AMQP_EXCHANGE: names.exchange,
    AMQP_QUEUE: names.workQueue,
    RETRY_DELAYS: "1s",
  };
});

afterAll(async () => {
  await topology.remove();
  await pool.end();
  await database.drop();
});

describe("SRE commands", () => {
  it("status, imports list, retry and dlq work on the service's database and queues", async () => {
    const id = randomUUID();
    const fixture = loadCompose(COMPOSES.success);
    await recordEvent(pool, parseComposeFinishedEvent({ ...fixture.event, compose_id: id }));
    await pool.query(
      "UPDATE imports SET state = 'failed', last_error = 'boom', last_error_code = 'KOJI_FAULT' WHERE compose_id = $1",
      [id],
    );

    const listed = await cli("imports", "list", "--state", "failed", "--json");
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((r: { compose_id: string }) => r.compose_id)).toEqual([id]);
    const people = await cli("imports", "list");
    expect(people.stdout).toMatch(/^COMPOSE_ID\s+STATE/);

    const status = await cli("status", id, "--json");
    expect(JSON.parse(status.stdout)).toMatchObject({ compose_id: id, state: "failed", last_error: "boom" });
    expect((await cli("status")).stdout).toContain(`work queue ${names.workQueue}: 0 ready`);

    expect((await cli("retry", id)).stdout).toContain(`re-queued ${id}`);
    expect((await channel.checkQueue(names.workQueue)).messageCount).toBe(1);
    const again = await cli("retry", id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is received, not failed or refunded");
    await channel.purgeQueue(names.workQueue);

    const publisher = await EventPublisher.open(testAmqpUrl());
    await publisher.publishRaw(names.deadLetterExchange, "", Buffer.from("{}"), {
      "x-compose-id": id,
      "x-death-reason": "no",
    });
    await publisher.close();
    expect(JSON.parse((await cli("dlq", "list", "--json")).stdout)[0]).toMatchObject({
      compose_id: id,
      reason: "no",
    });
    expect((await cli("dlq", "replay", id, "--dry-run")).stdout).toContain("would move 1 message(s)");
    expect((await cli("dlq", "replay", "--all")).stdout).toContain("moved 1 message(s)");
    expect((await channel.checkQueue(names.deadLetterQueue)).messageCount).toBe(0);
  }, 60_000);

  it("refuses wrong usage with exit 2", async () => {
    expect((await cli("retry")).code).toBe(2);
    expect((await cli("dlq", "replay")).code).toBe(2);
    expect((await cli("imports", "list", "--state", "done")).code).toBe(2);
    expect((await cli("status", "not-an-id")).code).toBe(2);
    expect((await cli("retry", "--force", "00000000-0000-4000-8000-000000000000")).code).toBe(2);
    expect((await cli("status", "--verbose")).code).toBe(2);
  });
});
