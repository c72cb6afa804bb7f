import { randomUUID } from "node:crypto";
import type { Channel } from "amqplib";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TopologyNames } from "../../src/queue/index.js";
import { parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { createPool, recordEvent, runMigrations } from "../../src/store/index.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { runCli } from "../support/built-cli.js";
import { closedPort } from "../support/closed-port.js";
import { createTestDatabase, type TestDatabase, testAmqpUrl } from "../support/servers.js";
import { createTestTopology, type TestTopology } from "../support/topology.js";

let database: TestDatabase;
let pool: pg.Pool;
let names: TopologyNames;
let topology: TestTopology;
let channel: Channel;
let env: Record<string, string>;

const cli = (...args: string[]) => runCli(args, env);
const RFC3339_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A failed import of its own NVR (one NVR is imported once per hub), as the pipeline leaves one. */
async function seedFailed(fields: { koji_server?: string } = {}): Promise<string> {
  const id = randomUUID();
  const fixture = loadCompose(COMPOSES.success);
  const koji = {
    ...(fixture.event.koji as Record<string, unknown>),
    release: `1.${id.slice(0, 8)}`,
    ...(fields.koji_server ? { server: fields.koji_server } : {}),
  };
  await recordEvent(pool, parseComposeFinishedEvent({ ...fixture.event, compose_id: id, koji }));
  await pool.query(
    "UPDATE imports SET state = 'failed', last_error = 'boom', last_error_code = 'KOJI_FAULT' WHERE compose_id = $1",
    [id],
  );
  return id;
}

/** A one-line answer on stderr, no stack trace. */
function expectOneLine(stderr: string, ...parts: string[]) {
  expect(stderr.trim().split("\n")).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  for (const part of parts) expect(stderr).toContain(part);
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
    const id = await seedFailed();

    const listed = await cli("imports", "list", "--state", "failed", "--json");
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout);
    expect(page.items.map((r: { compose_id: string }) => r.compose_id)).toEqual([id]);
    expect(page.items[0].last_error).toEqual({ code: "KOJI_FAULT", message: "boom" });
    expect(page.items[0].created_at).toMatch(RFC3339_Z);
    expect(page.next_cursor).toBeNull();
    const people = await cli("imports", "list");
    expect(people.stdout).toMatch(/^COMPOSE_ID\s+STATE/);

    const status = await cli("status", id, "--json");
    expect(JSON.parse(status.stdout)).toMatchObject({
      compose_id: id,
      state: "failed",
      last_error: { code: "KOJI_FAULT", message: "boom" },
      attempt_log: [],
    });
    const overview = await cli("status");
    expect(overview.code).toBe(0);
    expect(overview.stdout).toContain("failed 1");
    expect(overview.stdout).toMatch(new RegExp(`${names.workQueue}\\s+work\\s+0`));
    expect(overview.stdout).toMatch(new RegExp(`${names.retryQueues[0]?.name}\\s+retry\\s+0`));

    const retried = await cli("retry", id, "--json");
    expect(JSON.parse(retried.stdout)).toEqual({ compose_id: id, state: "received", requeued: true });
    expect((await channel.checkQueue(names.workQueue)).messageCount).toBe(1);
    const again = await cli("retry", id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is received, not failed or refunded");
    await channel.purgeQueue(names.workQueue);
  }, 60_000);

  it("imports list takes the HTTP API's filters and pages with its cursor", async () => {
    const server = "https://other-hub.example.org/kojihub";
    const ids = [await seedFailed({ koji_server: server }), await seedFailed({ koji_server: server })];
    const first = JSON.parse(
      (await cli("imports", "list", "--koji-server", server, "--limit", "1", "--json")).stdout,
    );
    expect(first.items.map((i: { compose_id: string }) => i.compose_id)).toEqual([ids[1]]);
    const second = JSON.parse(
      (
        await cli(
          "imports",
          "list",
          "--koji-server",
          server,
          "--limit",
          "1",
          "--cursor",
          first.next_cursor,
          "--json",
        )
      ).stdout,
    );
    expect(second.items.map((i: { compose_id: string }) => i.compose_id)).toEqual([ids[0]]);
    const future = JSON.parse(
      (await cli("imports", "list", "--since", "2999-01-01T00:00:00Z", "--json")).stdout,
    );
    expect(future.items).toEqual([]);
    const bad = await cli("imports", "list", "--since", "yesterday");
    expect(bad.code).toBe(2);
    // The same words as GET /v1/imports?since=yesterday, after the CLI's name for the argument.
    expect(bad.stderr).toContain("invalid --since: expected an RFC 3339 timestamp");
    expect((await cli("imports", "list", "--cursor", "zzz")).stderr).toContain(
      "invalid --cursor: not a cursor this API gave out",
    );
  });

  it("refuses wrong usage with exit 2", async () => {
    expect((await cli("retry")).code).toBe(2);
    expect((await cli("dlq", "replay")).code).toBe(2);
    expect((await cli("imports", "list", "--state", "done")).code).toBe(2);
    expect((await cli("status", "not-an-id")).code).toBe(2);
    expect((await cli("retry", "--force", "00000000-0000-4000-8000-000000000000")).code).toBe(2);
    expect((await cli("status", "--verbose")).code).toBe(2);
  }, 120_000);
});

describe("a dependency down", () => {
  it("status shows the database part and says in one line that the broker is down", async () => {
    await seedFailed();
    const down = await runCli(["status"], {
      ...env,
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${await closedPort()}`,
    });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/imports: .*failed \d/);
    expect(down.stdout).toContain("queues: unknown (RabbitMQ unavailable)");
    expectOneLine(
      down.stderr,
      "RabbitMQ unavailable at 127.0.0.1:",
      "ECONNREFUSED",
      "check that RabbitMQ is running",
    );
  });

  it("status and migrate say in one line that PostgreSQL is down or absent, and what to do", async () => {
    const port = await closedPort();
    const status = await runCli(["status"], {
      ...env,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x`,
    });
    expect(status.code).toBe(1);
    expectOneLine(
      status.stderr,
      "PostgreSQL unavailable",
      "ECONNREFUSED",
      "check that PostgreSQL is running",
    );
    const absent = new URL(database.url);
    absent.pathname = `/${database.name}_absent`;
    const migrate = await runCli(["migrate"], { ...env, DATABASE_URL: absent.toString() });
    expect(migrate.code).toBe(1);
    expectOneLine(migrate.stderr, `database "${database.name}_absent" does not exist`, "create the database");
  });

  it("an unmigrated database says to run migrate", async () => {
    const bare = await createTestDatabase("ops_bare");
    try {
      for (const args of [["status"], ["imports", "list"], ["status", randomUUID()]]) {
        const answer = await runCli(args, { ...env, DATABASE_URL: bare.url });
        expect(answer.code).toBe(1);
        expectOneLine(answer.stderr, "run `osbuild-koji-importer migrate`");
      }
    } finally {
      await bare.drop();
    }
  });
});
