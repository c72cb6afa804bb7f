import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventPublisher } from "../../src/queue/publisher.js";
import { findRabbitmqBin, type PrivateBroker, startPrivateBroker } from "../support/private-broker.js";
import { createHarness, type Harness } from "./harness.js";

/**
 * The broker itself goes away mid-run (`rabbitmqctl stop_app`, then `start_app`), on a RabbitMQ node of this
 * file's own so the shared broker's other users are untouched. Where no RabbitMQ server is installed (a
 * machine that runs the suite on testcontainers) the file skips; CI's machine has one.
 */
const bin = findRabbitmqBin();

describe.skipIf(bin === undefined)("a broker restart mid-run", () => {
  let broker: PrivateBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startPrivateBroker(bin as string);
    h = await createHarness("broker_restart", { AMQP_URL: broker.url, AMQP_PREFETCH: "2" });
  }, 90_000);

  afterAll(async () => {
    await h?.close();
    await broker?.stop();
  }, 60_000);

  it("the worker reconnects and finishes every import exactly once, losing no event", async () => {
    const worker = await h.startWorker();
    const before = await Promise.all(Array.from({ length: 6 }, () => h.prepareCompose()));
    // All but the first answer slowly, so when the broker goes two imports are in flight (prefetch 2) and three
    // wait in the queue: the in-flight ones finish but cannot be acked, and come back redelivered.
    for (const { composeId } of before.slice(1))
      h.composer.injectFault(composeId, { kind: "slow", delayMs: 1500, endpoint: "status" });
    for (const { event } of before) await h.publish(event);
    await h.waitForState(before[0]?.composeId as string, ["imported"]);
    await broker.stopApp();
    const done = await h.pool.query("SELECT count(*)::int AS n FROM imports WHERE state = 'imported'");
    expect(done.rows[0].n).toBeLessThan(before.length);
    await broker.startApp();

    // Composer publishes again once the broker is back (on a connection of its own: the old one died with it).
    const publisher = await EventPublisher.open(broker.url);
    const after = await Promise.all(Array.from({ length: 2 }, () => h.prepareCompose()));
    for (const { event } of after)
      await publisher.publishJson(h.config.AMQP_EXCHANGE, h.config.AMQP_ROUTING_KEY, event);
    await publisher.close();

    for (const { composeId } of [...before, ...after]) {
      const row = await h.waitForState(composeId, ["imported"], 60_000);
      expect(row.koji_build_id).toBeGreaterThan(0);
    }
    const builds = [...h.hub.state.builds.values()];
    expect(builds.filter((b) => b.state === 1)).toHaveLength(8);
    expect(new Set(builds.map((b) => `${b.name}-${b.version}-${b.release}`)).size).toBe(builds.length);
    expect(h.hub.counters.calls.CGImport).toBe(8);
    expect(worker.consumer.reconnectCount).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
