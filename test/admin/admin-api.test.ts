import { randomUUID } from "node:crypto";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { Channel } from "amqplib";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminAmqp } from "../../src/admin/amqp.js";
import { bearerAuth } from "../../src/admin/auth.js";
import { buildAdminServer } from "../../src/admin/server.js";
import { createMetrics } from "../../src/metrics.js";
import { EventPublisher, type TopologyNames } from "../../src/queue/index.js";
import { parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { createPool, recordEvent, runMigrations } from "../../src/store/index.js";
import { VERSION } from "../../src/version.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { closedPort } from "../support/closed-port.js";
import { createTestDatabase, type TestDatabase, testAmqpUrl } from "../support/servers.js";
import { createTestTopology, type TestTopology } from "../support/topology.js";

const TOKEN = "admin-token-for-tests-0123456789";
let database: TestDatabase;
let pool: pg.Pool;
let names: TopologyNames;
let topology: TestTopology;
let channel: Channel;
let adminAmqp: AdminAmqp;
let publisher: EventPublisher;
let app: FastifyInstance;
let base: string;

async function http(method: string, path: string, options: { body?: unknown; token?: string } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json: json as Record<string, any>, text };
}

async function seedImport(state: string, fields: Record<string, unknown> = {}): Promise<string> {
  const id = randomUUID();
  const fixture = loadCompose(COMPOSES.success);
  // Each seeded compose has its own NVR: one NVR is imported once per hub (a unique index says so).
  const koji = { ...(fixture.event.koji as Record<string, unknown>), release: `1.${id.slice(0, 8)}` };
  const event = parseComposeFinishedEvent({ ...fixture.event, compose_id: id, koji });
  await recordEvent(pool, event);
  const sets = Object.keys(fields).map((key, i) => `${key} = $${i + 3}`);
  await pool.query(
    `UPDATE imports SET state = $2${sets.map((s) => `, ${s}`).join("")} WHERE compose_id = $1`,
    [
      id,
      state,
      ...Object.values(fields).map((v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : v)),
    ],
  );
  return id;
}

async function deadLetter(composeId: string, reason: string) {
  await publisher.publishRaw(
    names.deadLetterExchange,
    "",
    Buffer.from(JSON.stringify({ compose_id: composeId })),
    {
      "x-death-reason": reason,
      "x-error-code": "KOJI_FAULT",
      "x-error-class": "permanent",
      "x-attempts": 3,
      "x-compose-id": composeId,
      "x-last-failure-at": "2026-11-24T10:00:00.000Z",
    },
  );
}

const depth = async (queue: string) => (await channel.checkQueue(queue)).messageCount;

beforeAll(async () => {
  database = await createTestDatabase("admin");
  await runMigrations(database.url);
  pool = createPool(database.url, 4);
  topology = await createTestTopology("admin");
  ({ names, channel } = topology);
  publisher = await EventPublisher.open(testAmqpUrl());
  adminAmqp = new AdminAmqp(testAmqpUrl());
  const logger = pino({ level: "silent" });
  app = await buildAdminServer(
    {
      pool,
      amqp: adminAmqp,
      names,
      metrics: createMetrics(),
      auth: bearerAuth(TOKEN, { read: "open", metrics: "open" }),
      logger,
    },
    logger,
  );
  base = await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await app.close();
  await adminAmqp.close();
  await topology.remove();
  await publisher.close();
  await pool.end();
  await database.drop();
});

describe("health", () => {
  it("answers /healthz, /readyz with each part checked, and /metrics with queue depths", async () => {
    expect((await http("GET", "/healthz")).json).toEqual({ status: "ok", version: VERSION });
    const ready = await http("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.checks).toEqual({ database: "ok", migrations: "ok", amqp: "ok" });
    const metrics = await http("GET", "/metrics");
    expect(metrics.text).toContain(`importer_queue_depth{queue="${names.workQueue}",role="work"}`);
    // a message waiting out a retry delay counts too
    for (const retry of names.retryQueues) {
      expect(metrics.text).toContain(`importer_queue_depth{queue="${retry.name}",role="retry"}`);
    }
    expect(metrics.text).toContain(
      `importer_queue_depth{queue="${names.deadLetterQueue}",role="dead-letter"}`,
    );
    expect(metrics.text).toContain("importer_events_consumed_total");
  });

  it("is not ready, naming the part, when migrations are pending", async () => {
    await pool.query("DELETE FROM pgmigrations WHERE name LIKE '%progress-marks'");
    const ready = await http("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.json.checks.migrations).toContain("pending: 1732460000000_import-progress-marks");
    await pool.query(
      "INSERT INTO pgmigrations (name, run_on) VALUES ('1732460000000_import-progress-marks', now())",
    );
  });
});

describe("imports", () => {
  it("lists newest first with keyset pagination and filters", async () => {
    const ids = [
      await seedImport("failed"),
      await seedImport("imported", { koji_build_id: 77 }),
      await seedImport("failed"),
    ];
    const page1 = await http("GET", "/v1/imports?limit=2");
    expect(page1.status).toBe(200);
    expect(page1.json.items.map((i: { compose_id: string }) => i.compose_id)).toEqual([ids[2], ids[1]]);
    const page2 = await http("GET", `/v1/imports?limit=2&cursor=${page1.json.next_cursor}`);
    expect(page2.json.items.map((i: { compose_id: string }) => i.compose_id)).toContain(ids[0]);
    const failed = await http("GET", "/v1/imports?state=failed&limit=500");
    expect(failed.json.items.every((i: { state: string }) => i.state === "failed")).toBe(true);
  });

  it("answers 400 naming the field for bad parameters", async () => {
    const bad = await http("GET", "/v1/imports?state=done");
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe("INVALID_REQUEST");
    expect(bad.json.details.field).toBe("query.state");
    expect((await http("GET", "/v1/imports?limit=0")).json.details.field).toBe("query.limit");
    expect((await http("GET", "/v1/imports?cursor=zzz")).json.details.field).toBe("query.cursor");
    expect((await http("GET", "/v1/imports/not-a-uuid")).json.details.field).toBe("path.compose_id");
    // The CLI's `imports list --since yesterday` says the same after its own name for the argument.
    expect((await http("GET", "/v1/imports?since=yesterday")).json.message).toBe(
      "invalid query.since: expected an RFC 3339 timestamp",
    );
  });

  it("shows last_error as {code, message} in the list and the detail", async () => {
    const id = await seedImport("failed", { last_error: "boom", last_error_code: "KOJI_FAULT" });
    const expected = { code: "KOJI_FAULT", message: "boom" };
    expect((await http("GET", `/v1/imports/${id}`)).json.last_error).toEqual(expected);
    const listed = (await http("GET", "/v1/imports?state=failed&limit=500")).json.items;
    expect(listed.find((i: { compose_id: string }) => i.compose_id === id).last_error).toEqual(expected);
  });

  it("answers 503 naming the outage, not 500, when PostgreSQL is down or not migrated", async () => {
    const logger = pino({ level: "silent" });
    const downPool = createPool(`postgres://postgres@127.0.0.1:${await closedPort()}/x`, 1);
    const unmigrated = await createTestDatabase("admin_bare");
    const barePool = createPool(unmigrated.url, 1);
    try {
      for (const [db, message] of [
        [downPool, "check that PostgreSQL is running"],
        [barePool, "run `osbuild-koji-importer migrate`"],
      ] as const) {
        const server = await buildAdminServer(
          {
            pool: db,
            amqp: adminAmqp,
            names,
            metrics: createMetrics(),
            auth: bearerAuth(TOKEN, { read: "open", metrics: "open" }),
            logger,
          },
          logger,
        );
        try {
          for (const url of ["/v1/imports", `/v1/imports/${randomUUID()}`]) {
            const answer = await server.inject({ method: "GET", url });
            expect(answer.statusCode).toBe(503);
            expect(answer.json().message).toContain(message);
          }
        } finally {
          await server.close();
        }
      }
    } finally {
      await downPool.end();
      await barePool.end();
      await unmigrated.drop();
    }
  });

  it("shows one import with its attempts, its metadata and compose-status; 404 when unknown", async () => {
    const status = loadCompose(COMPOSES.success).status;
    const id = await seedImport("imported", {
      koji_build_id: 91,
      compose_status: status,
      cg_metadata: { build: { extra: { typeinfo: { image: { "a.qcow2": { arch: "x86_64" } } } } } },
    });
    await pool.query(
      "INSERT INTO import_attempts (compose_id, attempt, step, outcome, error_code, error_message, started_at) VALUES ($1, 1, 'fetch', 'retryable', 'COMPOSER_HTTP', 'boom', now())",
      [id],
    );
    const detail = await http("GET", `/v1/imports/${id}`);
    expect(detail.json).toMatchObject({
      state: "imported",
      koji_build_id: 91,
      nvr: `Fedora-Cloud-Base-42-1.${id.slice(0, 8)}`,
    });
    expect(detail.json.attempt_log[0]).toMatchObject({
      step: "fetch",
      outcome: "retryable",
      error: { code: "COMPOSER_HTTP", message: "boom" },
    });
    // RFC 3339 in UTC everywhere, as the CLI's --json prints them.
    const rfc3339Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect(detail.json.created_at).toMatch(rfc3339Z);
    expect(detail.json.attempt_log[0].started_at).toMatch(rfc3339Z);
    const listed = (await http("GET", "/v1/imports?limit=1")).json.items[0];
    expect(listed.updated_at).toMatch(rfc3339Z);
    expect(
      (await http("GET", `/v1/imports/${id}/metadata`)).json.build.extra.typeinfo.image["a.qcow2"].arch,
    ).toBe("x86_64");
    expect((await http("GET", `/v1/imports/${id}/compose-status`)).json).toEqual({
      image_statuses: [{ status: "success" }, { status: "success" }],
      koji_build_id: 91,
      koji_task_id: 987654,
      status: "success",
    });
    const image = await http("GET", "/v1/builds/91/images/a.qcow2");
    expect(image.json).toEqual({ arch: "x86_64" });
    expect((await http("GET", "/v1/builds/91/images/b.qcow2")).status).toBe(404);
    const unknown = await http("GET", `/v1/imports/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe("NOT_FOUND");
  });

  it("re-queues a failed import with the token only; 401 without, 409 when not failed", async () => {
    const id = await seedImport("refunded", { last_error: "x" });
    expect((await http("POST", `/v1/imports/${id}/retry`)).status).toBe(401);
    expect((await http("POST", `/v1/imports/${id}/retry`, { token: "wrong-token-wrong-token" })).status).toBe(
      401,
    );
    const before = await depth(names.workQueue);
    const ok = await http("POST", `/v1/imports/${id}/retry`, { token: TOKEN });
    expect(ok.json).toEqual({ compose_id: id, state: "received", requeued: true });
    expect(await depth(names.workQueue)).toBe(before + 1);
    const again = await http("POST", `/v1/imports/${id}/retry`, { token: TOKEN });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain("is received");
    expect((await http("POST", `/v1/imports/${randomUUID()}/retry`, { token: TOKEN })).status).toBe(404);
    await channel.purgeQueue(names.workQueue);
  });

  it("answers 503 when the broker cannot take the event, and leaves the import failed to be retried again", async () => {
    const id = await seedImport("failed", { last_error: "x" });
    const nowhere = new AdminAmqp(`amqp://guest:guest@127.0.0.1:${await closedPort()}`);
    const logger = pino({ level: "silent" });
    const cutOff = await buildAdminServer(
      {
        pool,
        amqp: nowhere,
        names,
        metrics: createMetrics(),
        auth: bearerAuth(TOKEN, { read: "open", metrics: "open" }),
        logger,
      },
      logger,
    );
    try {
      const refused = await cutOff.inject({
        method: "POST",
        url: `/v1/imports/${id}/retry`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ error: "BROKER_UNAVAILABLE" });
      expect(refused.json().message).toContain(`import ${id} is unchanged`);
    } finally {
      await cutOff.close();
      await nowhere.close();
    }
    expect((await http("GET", `/v1/imports/${id}`)).json.state).toBe("failed");
    const ok = await http("POST", `/v1/imports/${id}/retry`, { token: TOKEN });
    expect(ok.json).toEqual({ compose_id: id, state: "received", requeued: true });
    await channel.purgeQueue(names.workQueue);
  });
});

describe("dead letters", () => {
  it("peeks without consuming: the same messages stay, unchanged", async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await deadLetter(id, `Build already exists (${id})`);
    const first = await http("GET", "/v1/dead-letters?limit=10");
    expect(first.json.items.map((i: { compose_id: string }) => i.compose_id)).toEqual(ids);
    expect(first.json.items[0]).toMatchObject({
      reason: `Build already exists (${ids[0]})`,
      attempts: 3,
      error_code: "KOJI_FAULT",
    });
    const second = await http("GET", "/v1/dead-letters?limit=10");
    expect(second.json).toEqual(first.json);
    expect(await depth(names.deadLetterQueue)).toBe(3);
    // Each shows its message id and its body, so a letter that is not even JSON can be read.
    expect(first.json.items[0].message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.json.items[0].body).toBe(JSON.stringify({ compose_id: ids[0] }));
    expect(first.json.items[0]).toMatchObject({
      body_bytes: first.json.items[0].body.length,
      body_truncated: false,
    });
  });

  it("replays chosen compose ids (dry run first), counting replays, and leaves the others", async () => {
    const peek = (await http("GET", "/v1/dead-letters")).json.items as Array<{ compose_id: string }>;
    const target = peek[1]?.compose_id as string;
    expect((await http("POST", "/v1/dead-letters/replay", { body: { compose_ids: [target] } })).status).toBe(
      401,
    );
    const bad = await http("POST", "/v1/dead-letters/replay", { body: {}, token: TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json.details.field).toBe("body.compose_ids");
    const dry = await http("POST", "/v1/dead-letters/replay", {
      body: { compose_ids: [target], dry_run: true },
      token: TOKEN,
    });
    expect(dry.json.moved).toBeUndefined();
    expect(dry.json.would_move.map((m: { compose_id: string }) => m.compose_id)).toEqual([target]);
    // A compose id with no dead letter is refused, and nothing moves, even beside one that has.
    const stray = randomUUID();
    const unknown = await http("POST", "/v1/dead-letters/replay", {
      body: { compose_ids: [target, stray] },
      token: TOKEN,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toBe(`no dead letter for compose ${stray}; nothing was moved or removed`);
    expect(await depth(names.deadLetterQueue)).toBe(3);
    const real = await http("POST", "/v1/dead-letters/replay", {
      body: { compose_ids: [target] },
      token: TOKEN,
    });
    expect(real.json.moved).toHaveLength(1);
    expect(await depth(names.deadLetterQueue)).toBe(2);
    const moved = await channel.get(names.workQueue, { noAck: true });
    expect(moved ? moved.properties.headers?.["x-replayed"] : undefined).toBe(1);
    expect(moved ? moved.properties.headers?.["x-attempt"] : undefined).toBe(1);
    const left = (await http("GET", "/v1/dead-letters")).json.items.map(
      (i: { compose_id: string }) => i.compose_id,
    );
    expect(left).not.toContain(target);
    expect(left).toHaveLength(2);
  });

  it("replays all", async () => {
    const all = await http("POST", "/v1/dead-letters/replay", { body: { all: true }, token: TOKEN });
    expect(all.json.moved).toHaveLength(2);
    expect(await depth(names.deadLetterQueue)).toBe(0);
    expect(await depth(names.workQueue)).toBe(2);
    await channel.purgeQueue(names.workQueue);
  });
});

describe("dead letters by code, and dropping them", () => {
  it("replays by error code, and refuses a code no dead letter has", async () => {
    const [faulty, other] = [randomUUID(), randomUUID()];
    await deadLetter(faulty, "Koji said no");
    await publisher.publishRaw(names.deadLetterExchange, "", Buffer.from("not json"), {
      "x-error-code": "EVENT_NOT_JSON",
      "x-compose-id": other,
    });
    const none = await http("POST", "/v1/dead-letters/replay", { body: { code: "NOPE" }, token: TOKEN });
    expect(none.status).toBe(404);
    expect(none.json.message).toContain("no dead letter has error code NOPE");
    const both = await http("POST", "/v1/dead-letters/replay", {
      body: { code: "KOJI_FAULT", all: true },
      token: TOKEN,
    });
    expect(both.status).toBe(400);
    const moved = await http("POST", "/v1/dead-letters/replay", {
      body: { code: "KOJI_FAULT" },
      token: TOKEN,
    });
    expect(moved.json.moved.map((m: { compose_id: string }) => m.compose_id)).toEqual([faulty]);
    expect(await depth(names.deadLetterQueue)).toBe(1);
    await channel.purgeQueue(names.workQueue);
  });

  it("drops poison letters only with confirm: true, each logged in full first", async () => {
    const poison = (await http("GET", "/v1/dead-letters")).json.items[0];
    expect(poison.body).toBe("not json");
    const unconfirmed = await http("POST", "/v1/dead-letters/drop", {
      body: { code: "EVENT_NOT_JSON" },
      token: TOKEN,
    });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.json.details.field).toBe("body.confirm");
    expect(
      (await http("POST", "/v1/dead-letters/drop", { body: { all: true, confirm: true }, token: TOKEN }))
        .status,
    ).toBe(400);
    expect(
      (await http("POST", "/v1/dead-letters/drop", { body: { code: "EVENT_NOT_JSON", confirm: true } }))
        .status,
    ).toBe(401);
    const dry = await http("POST", "/v1/dead-letters/drop", {
      body: { code: "EVENT_NOT_JSON", dry_run: true },
      token: TOKEN,
    });
    expect(dry.json.would_drop).toHaveLength(1);
    expect(await depth(names.deadLetterQueue)).toBe(1);

    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const logged = await buildAdminServer(
      {
        pool,
        amqp: adminAmqp,
        names,
        metrics: createMetrics(),
        auth: bearerAuth(TOKEN, { read: "open", metrics: "open" }),
        logger,
      },
      logger,
    );
    try {
      const dropped = await logged.inject({
        method: "POST",
        url: "/v1/dead-letters/drop",
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { code: "EVENT_NOT_JSON", confirm: true },
      });
      expect(dropped.json().dropped.map((d: { compose_id: string }) => d.compose_id)).toEqual([
        poison.compose_id,
      ]);
    } finally {
      await logged.close();
    }
    expect(await depth(names.deadLetterQueue)).toBe(0);
    const entry = lines
      .map((line) => JSON.parse(line))
      .find((l) => l.msg === "dead letter dropped by an operator");
    expect(entry.dead_letter).toMatchObject({ body: "not json", compose_id: poison.compose_id });
    expect(entry.headers["x-error-code"]).toBe("EVENT_NOT_JSON");
  });

  it("shows the first 64 KiB of a large letter, whole characters only, and puts it back whole", async () => {
    // An EVENT_TOO_LARGE letter: 1 MiB of two-byte characters, no compose id in the headers or readable in the body.
    const body = Buffer.from(`{"compose_id":"${randomUUID()}","pad":"${"é".repeat(512 * 1024)}"}`);
    await publisher.publishRaw(names.deadLetterExchange, "", body, { "x-error-code": "EVENT_TOO_LARGE" });
    const [large] = (await http("GET", "/v1/dead-letters")).json.items as Array<Record<string, unknown>>;
    expect(large).toMatchObject({ compose_id: null, body_bytes: body.length, body_truncated: true });
    const shown = large?.body as string;
    expect(Buffer.byteLength(shown)).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.byteLength(shown)).toBeGreaterThan(64 * 1024 - 4);
    expect(shown).not.toContain("\uFFFD");
    expect(body.toString("utf8").startsWith(shown)).toBe(true);
    expect(await depth(names.deadLetterQueue)).toBe(1);
    const kept = await channel.get(names.deadLetterQueue, { noAck: true });
    expect(kept !== false && kept.content.equals(body)).toBe(true);
  });
});

describe("/openapi.json", () => {
  it("is a valid OpenAPI 3 document listing every route", async () => {
    const doc = (await http("GET", "/openapi.json")).json;
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/imports",
        "/v1/imports/{compose_id}",
        "/v1/imports/{compose_id}/metadata",
        "/v1/imports/{compose_id}/compose-status",
        "/v1/imports/{compose_id}/retry",
        "/v1/builds/{koji_build_id}/images/{filename}",
        "/v1/dead-letters",
        "/v1/dead-letters/replay",
        "/v1/dead-letters/drop",
      ].sort(),
    );
    expect(doc.paths["/v1/imports/{compose_id}/retry"].post.security).toEqual([{ bearer: [] }]);
  });
});
