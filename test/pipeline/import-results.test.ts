import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminAmqp } from "../../src/admin/amqp.js";
import { bearerAuth } from "../../src/admin/auth.js";
import { buildAdminServer } from "../../src/admin/server.js";
import { ResultRelay } from "../../src/pipeline/result-relay.js";
import { OPERATOR_RETRY_HEADER } from "../../src/queue/delivery.js";
import { namesFromConfig } from "../../src/service/admin.js";
import type { Worker } from "../../src/service/worker.js";
import { retryImport } from "../../src/store/queries/retry-import.js";
import { latestResultEvent, outboxBacklog, prunePublishedResults } from "../../src/store/result-outbox.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { bindResultConsumer, type ResultConsumer } from "../support/result-consumer.js";
import { createHarness, type Harness } from "./harness.js";

/**
 * The import-result events as a system waiting for them sees them: a queue of its own bound to the result
 * routing key receives exactly one result per import that reached a final state, through the outbox relay.
 */
let h: Harness;
let results: ResultConsumer;
let worker: Worker;
const FINAL = ["imported", "failed", "refunded"];

beforeAll(async () => {
  h = await createHarness("results");
  results = await bindResultConsumer(h.env.AMQP_URL as string, h.config.AMQP_EXCHANGE);
  worker = await h.startWorker();
}, 60_000);

afterAll(async () => {
  await results?.close();
  await h?.close();
});

describe("import-result events", () => {
  it("a good import publishes one `imported` result with the build id and NVR of the hub's build", async () => {
    const { composeId, event } = await h.prepareCompose();
    await h.publish(event);
    const row = await h.waitForState(composeId, FINAL);
    const [received, ...more] = await results.take(1);
    const build = [...h.hub.state.builds.values()].find((b) => b.release === event.koji.release);
    expect(build?.state).toBe(1);
    expect(received).toMatchObject({
      messageId: `${composeId}:imported`,
      contentType: "application/json",
      persistent: true,
      routingKey: "koji.import.finished",
    });
    expect(received?.event).toEqual({
      type: "koji.import.finished",
      version: 1,
      compose_id: composeId,
      state: "imported",
      koji: {
        server: h.hub.url,
        build_id: build?.id,
        nvr: `${build?.name}-${build?.version}-${build?.release}`,
      },
      error: null,
      finished_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(row.koji_build_id).toBe(build?.id);
    expect([...more, ...(await results.drainFor(500))]).toEqual([]);
    expect(await latestResultEvent(h.pool, composeId)).toMatchObject({
      state: "imported",
      message_id: `${composeId}:imported`,
      published: true,
    });
    expect((await outboxBacklog(h.pool)).pending).toBe(0);
  });

  it("a permanent Koji rejection after the reservation publishes `refunded` with the error code and the refunded build", async () => {
    const { composeId, event } = await h.prepareCompose();
    h.hub.inject.importFailure({ faultCode: 1000, faultString: "Build (42) NVR is different" });
    await h.publish(event);
    expect((await h.waitForState(composeId, FINAL)).state).toBe("refunded");
    const [received] = await results.take(1);
    const build = [...h.hub.state.builds.values()].find((b) => b.release === event.koji.release);
    expect(build?.state).toBe(3);
    expect(received?.messageId).toBe(`${composeId}:refunded`);
    expect(received?.event).toMatchObject({
      compose_id: composeId,
      state: "refunded",
      koji: {
        server: h.hub.url,
        build_id: build?.id,
        nvr: `${event.koji.name}-${event.koji.version}-${event.koji.release}`,
      },
      error: { code: "KOJI_FAULT", message: expect.stringContaining("Build (42) NVR is different") },
    });
    expect(await results.drainFor(300)).toEqual([]);
  });

  it("a failed compose publishes `failed` with COMPOSE_FAILED and no build id", async () => {
    const { composeId, event } = await h.prepareCompose(COMPOSES.failure);
    await h.publish(event);
    expect((await h.waitForState(composeId, FINAL)).state).toBe("failed");
    const [received] = await results.take(1);
    expect(received?.messageId).toBe(`${composeId}:failed`);
    expect(received?.event).toMatchObject({
      compose_id: composeId,
      state: "failed",
      koji: { server: h.hub.url, build_id: null },
      error: { code: "COMPOSE_FAILED", message: expect.stringContaining("osbuild build failed") },
    });
    expect(await results.drainFor(300)).toEqual([]);
  });

  it("a failed compose whose reservation composer made names that build in its `refunded` result", async () => {
    const { composeId, event } = await h.prepareCompose(COMPOSES.failure);
    const bodies = loadCompose(COMPOSES.failure);
    const reservation = h.hub.state.newBuild(h.hub.state.user("osbuild"), "osbuild", event.koji, 0);
    reservation.token = `reservation-token-${reservation.id}`;
    const logs = {
      ...bodies.logs,
      koji: { init: { build_id: reservation.id, token: reservation.token }, import: {} },
    };
    h.composer.addCompose(composeId, { status: bodies.status, logs, manifests: bodies.manifests });
    await h.publish(event);
    expect((await h.waitForState(composeId, FINAL)).state).toBe("refunded");
    const [received] = await results.take(1);
    expect(received?.event).toMatchObject({
      state: "refunded",
      koji: { build_id: reservation.id },
      error: { code: "COMPOSE_FAILED" },
    });
  });

  it("an event without Koji is ignored and publishes nothing", async () => {
    const { composeId, event } = await h.prepareCompose();
    const { koji: _koji, ...withoutKoji } = event;
    await h.publish(withoutKoji);
    expect((await h.waitForState(composeId, ["ignored"])).state).toBe("ignored");
    expect(await results.drainFor(500)).toEqual([]);
    expect(await latestResultEvent(h.pool, composeId)).toBeNull();
  });

  it("an operator's retry that reaches a final state again publishes again: a new state, a new message_id", async () => {
    const { composeId, event } = await h.prepareCompose();
    h.hub.inject.importFailure({ faultCode: 1000, faultString: "refused once" });
    await h.publish(event);
    expect((await h.waitForState(composeId, FINAL)).state).toBe("refunded");
    const [first] = await results.take(1);
    expect(first?.messageId).toBe(`${composeId}:refunded`);
    await h.nextDeadLetter();

    expect(await retryImport(h.pool, composeId)).toBeDefined();
    await h.publisher.publishJson(h.config.AMQP_EXCHANGE, h.config.AMQP_ROUTING_KEY, event, {
      [OPERATOR_RETRY_HEADER]: true,
    });
    expect((await h.waitForState(composeId, ["imported"])).state).toBe("imported");
    const [second] = await results.take(1);
    expect(second?.messageId).toBe(`${composeId}:imported`);
    expect(second?.event.koji.build_id).toBe((await h.waitForState(composeId, ["imported"])).koji_build_id);
    const rows = await h.pool.query(
      "SELECT state FROM import_result_outbox WHERE compose_id = $1 ORDER BY id",
      [composeId],
    );
    expect(rows.rows.map((r) => r.state)).toEqual(["refunded", "imported"]);
  });
});

describe("the result relay", () => {
  /** Imports already final with their results pending, as a backlog left by an outage looks. */
  async function pendingResults(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    await h.pool.query(
      `INSERT INTO imports (compose_id, state, koji_server, name, version, release, koji_build_id, event)
       SELECT id, 'imported', 'https://hub.example/kojihub', 'backlog', '1', 'r' || replace(id::text, '-', ''), n, '{}'::jsonb
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
      [ids],
    );
    await h.pool.query(
      `INSERT INTO import_result_outbox (compose_id, state, koji_server, koji_build_id, nvr)
       SELECT compose_id, state, koji_server, koji_build_id, name || '-' || version || '-' || release
       FROM imports WHERE compose_id = ANY($1::uuid[])`,
      [ids],
    );
    return ids;
  }

  function relay(batchSize: number): ResultRelay {
    return new ResultRelay({
      pool: h.pool,
      amqpUrl: h.env.AMQP_URL as string,
      exchange: h.config.AMQP_EXCHANGE,
      routingKey: h.config.AMQP_RESULT_ROUTING_KEY,
      retentionMs: 3_600_000,
      metrics: h.metrics,
      logger: pino({ level: "silent" }),
      batchSize,
    });
  }

  it("two relays draining one backlog at once publish every result exactly once between them", async () => {
    // The worker's own relay would take part too; stop it so the two here are the only ones.
    await worker.stop();
    const ids = await pendingResults(400);
    expect((await outboxBacklog(h.pool)).pending).toBe(400);
    const [a, b] = [relay(10), relay(10)];
    const counts = await Promise.all([a.drain(), b.drain()]);
    await Promise.all([a.stop(), b.stop()]);
    expect(counts[0] + counts[1]).toBe(400);
    expect(counts[0], "both relays published").toBeGreaterThan(0);
    expect(counts[1], "both relays published").toBeGreaterThan(0);
    const got = await results.take(400);
    expect(new Set(got.map((r) => r.messageId))).toEqual(new Set(ids.map((id) => `${id}:imported`)));
    expect(await results.drainFor(300)).toEqual([]);
    expect(await outboxBacklog(h.pool)).toEqual({ pending: 0, oldestAgeSeconds: 0 });
  }, 60_000);

  it("prunes results published longer ago than the retention, never pending ones", async () => {
    const [published] = await pendingResults(1);
    await relay(10).drain();
    await results.take(1);
    const [pending] = await pendingResults(1);
    expect(await prunePublishedResults(h.pool, 3_600_000)).toBe(0);
    await h.pool.query(
      "UPDATE import_result_outbox SET published_at = now() - interval '2 hours' WHERE compose_id = $1",
      [published],
    );
    expect(await prunePublishedResults(h.pool, 3_600_000)).toBe(1);
    expect(await latestResultEvent(h.pool, published as string)).toBeNull();
    expect(await latestResultEvent(h.pool, pending as string)).toMatchObject({ published: false });
    const backlog = await outboxBacklog(h.pool);
    expect(backlog.pending).toBe(1);
  });

  it("status and GET /v1/imports/{id} show whether the result was published; a backlog leaves /readyz ready", async () => {
    const [composeId] = await pendingResults(1);
    const id = composeId as string;
    const logger = pino({ level: "silent" });
    const amqp = new AdminAmqp(h.env.AMQP_URL as string);
    const app = await buildAdminServer(
      {
        pool: h.pool,
        amqp,
        names: namesFromConfig(h.config),
        metrics: h.metrics,
        auth: bearerAuth(undefined, { read: "open", metrics: "open" }),
        logger,
      },
      logger,
    );
    const status = async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          "--import",
          "tsx",
          `${new URL("../../", import.meta.url).pathname}src/cli.ts`,
          "status",
          id,
          "--json",
        ],
        { env: { ...process.env, ...h.env } },
      );
      return JSON.parse(stdout) as { result_event: { published: boolean; message_id: string } | null };
    };
    try {
      const before = await app.inject({ method: "GET", url: `/v1/imports/${id}` });
      expect(before.json().result_event).toMatchObject({
        state: "imported",
        message_id: `${id}:imported`,
        published: false,
        published_at: null,
      });
      expect((await status()).result_event).toMatchObject({ message_id: `${id}:imported`, published: false });
      const ready = await app.inject({ method: "GET", url: "/readyz" });
      expect(ready.statusCode).toBe(200);
      const backlog = await outboxBacklog(h.pool);
      expect(backlog.pending).toBeGreaterThan(0);
      const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
      expect(metrics).toContain(`importer_outbox_pending ${backlog.pending}`);
      expect(metrics).toMatch(/importer_outbox_oldest_pending_age_seconds \d/);
      expect(metrics).toMatch(/importer_results_published_total\{state="imported"\} \d+/);

      await relay(10).drain();
      const after = await app.inject({ method: "GET", url: `/v1/imports/${id}` });
      expect(after.json().result_event).toMatchObject({ published: true, published_at: expect.any(String) });
      expect((await status()).result_event).toMatchObject({ published: true });
      expect((await app.inject({ method: "GET", url: "/metrics" })).body).toContain(
        "importer_outbox_pending 0",
      );
    } finally {
      await app.close();
      await amqp.close();
    }
  }, 30_000);
});
