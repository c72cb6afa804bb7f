import { randomUUID } from "node:crypto";
import type { Channel } from "amqplib";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventPublisher, type TopologyNames } from "../../src/queue/index.js";
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

  it("status shows a message repeated over attempts once in the attempt table", async () => {
    const id = await seedFailed();
    const long = `waiting for uploads: ${Array.from({ length: 20 }, (_, i) => `image-${i}.qcow2`).join(", ")}`;
    for (const attempt of [1, 2, 3]) {
      await pool.query(
        "INSERT INTO import_attempts (compose_id, attempt, step, outcome, error_code, error_message, started_at) VALUES ($1, $2, 'check-uploads', 'retryable', 'KOJI_UPLOAD_WAITING', $3, now())",
        [id, attempt, long],
      );
    }
    await pool.query("UPDATE imports SET last_error = $2 WHERE compose_id = $1", [
      id,
      `gave up after 3 attempts: ${long}`,
    ]);
    const shown = (await cli("status", id)).stdout;
    expect(shown.split(long)).toHaveLength(2);
    expect(shown).toContain("(as attempt 1)");
  });

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

describe("dead letters", () => {
  it("list shows ids and bodies; replay by id or code; an unknown id is an error; drop needs --yes", async () => {
    const [known, poisonId] = [randomUUID(), randomUUID()];
    const publisher = await EventPublisher.open(testAmqpUrl());
    const longBody = JSON.stringify({ compose_id: known, padding: "x".repeat(200) });
    await publisher.publishRaw(names.deadLetterExchange, "", Buffer.from(longBody), {
      "x-compose-id": known,
      "x-error-code": "KOJI_FAULT",
      "x-death-reason": "no",
    });
    await publisher.publishRaw(names.deadLetterExchange, "", Buffer.from("not json at all"), {
      "x-compose-id": poisonId,
      "x-error-code": "EVENT_NOT_JSON",
    });
    await publisher.close();

    const listed = JSON.parse((await cli("dlq", "list", "--json")).stdout).items;
    expect(listed[0]).toMatchObject({ compose_id: known, body: longBody, message_id: expect.any(String) });
    const people = (await cli("dlq", "list")).stdout;
    expect(people).toContain("not json at all");
    expect(people).toContain(listed[0].message_id);
    expect(people).not.toContain(longBody);

    const stray = randomUUID();
    const unknown = await cli("dlq", "replay", stray, "--dry-run");
    expect(unknown.code).toBe(1);
    expectOneLine(unknown.stderr, `no dead letter for compose ${stray}`);
    const dry = JSON.parse((await cli("dlq", "replay", known, "--dry-run", "--json")).stdout);
    expect(dry).toMatchObject({ dry_run: true, would_move: [{ compose_id: known }] });
    expect(dry.moved).toBeUndefined();

    const unconfirmed = await cli("dlq", "drop", "--code", "EVENT_NOT_JSON");
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("add --yes");
    expect((await channel.checkQueue(names.deadLetterQueue)).messageCount).toBe(2);
    const dropped = await cli("dlq", "drop", "--code", "EVENT_NOT_JSON", "--yes", "--json");
    expect(dropped.code).toBe(0);
    expect(JSON.parse(dropped.stdout).dropped.map((d: { compose_id: string }) => d.compose_id)).toEqual([
      poisonId,
    ]);
    // Logged in full before it went: the whole letter can still be read from the log.
    const logged = dropped.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === "dead letter dropped by an operator");
    expect(logged.dead_letter.body).toBe("not json at all");

    const replayed = await cli("dlq", "replay", "--code", "KOJI_FAULT");
    expect(replayed.stdout).toContain("moved 1 message(s)");
    expect((await channel.checkQueue(names.deadLetterQueue)).messageCount).toBe(0);
    expect((await channel.checkQueue(names.workQueue)).messageCount).toBe(1);
    await channel.purgeQueue(names.workQueue);
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
