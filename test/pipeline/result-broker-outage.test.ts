import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxBacklog } from "../../src/store/result-outbox.js";
import { findRabbitmqBin, type PrivateBroker, startPrivateBroker } from "../support/private-broker.js";
import { bindResultConsumer, type ResultConsumer } from "../support/result-consumer.js";
import { createHarness, type Harness } from "./harness.js";

/**
 * Imports finish while the broker is away (a RabbitMQ node of this file's own, `stop_app`): their results wait
 * in the outbox, the worker stays up, and once the broker is back every result is published.
 */
const bin = findRabbitmqBin();

describe.skipIf(bin === undefined)("a broker outage while results are pending", () => {
  let broker: PrivateBroker;
  let h: Harness;
  let results: ResultConsumer;

  beforeAll(async () => {
    broker = await startPrivateBroker(bin as string);
    h = await createHarness("result_outage", { AMQP_URL: broker.url, AMQP_PREFETCH: "4" });
    results = await bindResultConsumer(broker.url, h.config.AMQP_EXCHANGE);
  }, 90_000);

  afterAll(async () => {
    await results?.close();
    await h?.close();
    await broker?.stop();
  }, 60_000);

  it("results committed while the broker is down are published once it is back", async () => {
    await h.startWorker();
    const composes = await Promise.all(Array.from({ length: 3 }, () => h.prepareCompose()));
    // Composer answers slowly, so the imports are in flight when the broker goes and finish while it is away.
    for (const { composeId } of composes)
      h.composer.injectFault(composeId, { kind: "slow", delayMs: 5000, endpoint: "status" });
    for (const { event } of composes) await h.publish(event);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await broker.stopApp();
    const early = await h.pool.query("SELECT count(*)::int AS n FROM imports WHERE state = 'imported'");
    expect(early.rows[0].n, "imports finished before the broker went").toBe(0);
    for (const { composeId } of composes) await h.waitForState(composeId, ["imported"], 30_000);
    // Committed, not published: the relay keeps them while it cannot reach the broker.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await outboxBacklog(h.pool)).pending).toBe(composes.length);
    await broker.startApp();

    const got = await results.take(composes.length, 60_000);
    got.push(...(await results.drainFor(500)));
    expect(new Set(got.map((r) => r.messageId))).toEqual(
      new Set(composes.map(({ composeId }) => `${composeId}:imported`)),
    );
    expect(got).toHaveLength(composes.length);
    expect((await outboxBacklog(h.pool)).pending).toBe(0);
  }, 150_000);
});
