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
    const ids = composes.map(({ composeId }) => composeId);
    // Composer answers slowly, so the test can lock the import rows before the pipeline's next state change:
    // the imports then wait on the lock, whatever the machine's speed, until the broker is gone.
    for (const composeId of ids)
      h.composer.injectFault(composeId, { kind: "slow", delayMs: 2000, endpoint: "status" });
    for (const { event } of composes) await h.publish(event);
    const gate = await h.pool.connect();
    try {
      await gate.query("BEGIN");
      const end = Date.now() + 30_000;
      for (;;) {
        const locked = await gate.query(
          "SELECT state FROM imports WHERE compose_id = ANY($1::uuid[]) FOR UPDATE",
          [ids],
        );
        if (locked.rows.length === ids.length) {
          expect(locked.rows.map((r) => r.state)).not.toContain("imported");
          break;
        }
        if (Date.now() > end) throw new Error("the events were not recorded");
        await gate.query("ROLLBACK");
        await new Promise((resolve) => setTimeout(resolve, 20));
        await gate.query("BEGIN");
      }
      await broker.stopApp();
    } finally {
      await gate.query("ROLLBACK");
      gate.release();
    }
    for (const composeId of ids) await h.waitForState(composeId, ["imported"], 60_000);
    // Committed, not published: the relay keeps them while it cannot reach the broker.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await outboxBacklog(h.pool)).pending).toBe(composes.length);
    await broker.startApp();

    const got = await results.take(composes.length, 60_000);
    got.push(...(await results.drainFor(500)));
    expect(new Set(got.map((r) => r.messageId))).toEqual(
      new Set(ids.map((composeId) => `${composeId}:imported`)),
    );
    expect(got).toHaveLength(composes.length);
    expect((await outboxBacklog(h.pool)).pending).toBe(0);
  }, 150_000);
});
