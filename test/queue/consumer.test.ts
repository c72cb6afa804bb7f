import { setTimeout as sleep } from "node:timers/promises";
import amqp, { type Channel, type ChannelModel } from "amqplib";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { permanentError, retryableError } from "../../src/errors.js";
import {
  type Delivery,
  declareTopology,
  deleteTopology,
  EventPublisher,
  type Outcome,
  QueueConsumer,
  type TopologyNames,
  topologyNames,
} from "../../src/queue/index.js";
import { closeConnectionsNamed } from "../support/broker.js";
import { runPrefix, testAmqpUrl } from "../support/servers.js";

const logger = pino({ level: "silent" });
let model: ChannelModel;
let admin: Channel;
let publisher: EventPublisher;
const created: TopologyNames[] = [];
const consumers: QueueConsumer[] = [];

function freshNames(delays = [150, 300]): TopologyNames {
  const prefix = runPrefix("q");
  const names = topologyNames({
    exchange: `${prefix}.events`,
    routingKey: "compose.finished",
    queue: `${prefix}.work`,
    retryDelaysMs: delays,
  });
  created.push(names);
  return names;
}

async function consume(
  names: TopologyNames,
  handler: (d: Delivery) => Promise<Outcome>,
  prefetch = 4,
  connectionName?: string,
) {
  const consumer = new QueueConsumer({
    url: testAmqpUrl(),
    names,
    prefetch,
    handler,
    logger,
    reconnectBackoff: { baseDelayMs: 100, maxDelayMs: 500 },
    ...(connectionName ? { connectionName } : {}),
  });
  consumers.push(consumer);
  await consumer.start();
  return consumer;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(20);
  }
}

beforeAll(async () => {
  model = await amqp.connect(testAmqpUrl());
  admin = await model.createChannel();
  publisher = await EventPublisher.open(testAmqpUrl());
});

afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.stop();
});

afterAll(async () => {
  for (const names of created) await deleteTopology(admin, names).catch(() => undefined);
  await publisher.close();
  await model.close();
});

describe("QueueConsumer", () => {
  it("declares its topology idempotently and routes composer's events to the work queue", async () => {
    const names = freshNames();
    await declareTopology(admin, names);
    await declareTopology(admin, names);
    await publisher.publishJson(names.exchange, names.routingKey, { hello: 1 });
    await publisher.publishJson(names.exchange, "compose.started", { ignored: true });
    await until(async () => (await admin.checkQueue(names.workQueue)).messageCount === 1);
    const seen: Delivery[] = [];
    await consume(names, async (d) => {
      seen.push(d);
      return { action: "ack" };
    });
    await until(() => seen.length === 1);
    expect(JSON.parse(seen[0]?.body.toString() ?? "")).toEqual({ hello: 1 });
    expect(seen[0]?.attempt).toBe(1);
  });

  it("hands over bodies that are not JSON; deciding is the pipeline's job", async () => {
    const names = freshNames();
    const seen: string[] = [];
    await consume(names, async (d) => {
      seen.push(d.body.toString());
      return { action: "ack" };
    });
    await publisher.publishRaw(names.exchange, names.routingKey, Buffer.from("{not json"));
    await until(() => seen.length === 1);
    expect(seen).toEqual(["{not json"]);
  });

  it("retries through the retry queue after its delay, counting attempts", async () => {
    const names = freshNames([250, 400]);
    const seen: Array<{ attempt: number; at: number; headers: Record<string, unknown> }> = [];
    await consume(names, async (d) => {
      seen.push({ attempt: d.attempt, at: Date.now(), headers: d.headers });
      return d.attempt < 3
        ? { action: "retry", error: retryableError("KOJI_TRANSPORT", "flaky") }
        : { action: "ack" };
    });
    await publisher.publishJson(names.exchange, names.routingKey, { n: 1 });
    await until(() => seen.length === 3);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(240);
    expect((seen[2]?.at ?? 0) - (seen[1]?.at ?? 0)).toBeGreaterThanOrEqual(390);
    expect(seen[1]?.headers["x-last-error-code"]).toBe("KOJI_TRANSPORT");
    await sleep(100);
    expect((await admin.checkQueue(names.workQueue)).messageCount).toBe(0);
    for (const retry of names.retryQueues) expect((await admin.checkQueue(retry.name)).messageCount).toBe(0);
  });

  it("dead-letters with the reason, code, class, attempts, compose id and time in headers", async () => {
    const names = freshNames();
    await consume(names, async () => ({
      action: "dead-letter",
      error: permanentError("KOJI_FAULT", "Build already exists (id=3, state=COMPLETE)"),
      composeId: "6f1c2a8e-1d2b-4c3d-9e8f-0a1b2c3d4e5f",
    }));
    await publisher.publishJson(names.exchange, names.routingKey, { n: 1 }, { "x-custom": "kept" });
    let dead: amqp.GetMessage | false = false;
    await until(async () => {
      dead = await admin.get(names.deadLetterQueue, { noAck: true });
      return dead !== false;
    });
    const headers = (dead as unknown as amqp.GetMessage).properties.headers ?? {};
    expect(headers).toMatchObject({
      "x-death-reason": "Build already exists (id=3, state=COMPLETE)",
      "x-error-code": "KOJI_FAULT",
      "x-error-class": "permanent",
      "x-attempts": 1,
      "x-compose-id": "6f1c2a8e-1d2b-4c3d-9e8f-0a1b2c3d4e5f",
      "x-original-routing-key": "compose.finished",
      "x-custom": "kept",
    });
    expect(Date.parse(String(headers["x-last-failure-at"]))).toBeGreaterThan(Date.now() - 10_000);
    expect((await admin.checkQueue(names.workQueue)).messageCount).toBe(0);
  });

  it("treats a handler that throws as a retry", async () => {
    const names = freshNames([100]);
    const attempts: number[] = [];
    await consume(names, async (d) => {
      attempts.push(d.attempt);
      if (d.attempt === 1) throw new Error("bug");
      return { action: "ack" };
    });
    await publisher.publishJson(names.exchange, names.routingKey, {});
    await until(() => attempts.length === 2);
    expect(attempts).toEqual([1, 2]);
  });

  it("keeps at most `prefetch` messages in flight", async () => {
    const names = freshNames();
    let active = 0;
    let peak = 0;
    let done = 0;
    await consume(
      names,
      async () => {
        active += 1;
        peak = Math.max(peak, active);
        await sleep(60);
        active -= 1;
        done += 1;
        return { action: "ack" };
      },
      2,
    );
    for (let i = 0; i < 8; i++) await publisher.publishJson(names.exchange, names.routingKey, { i });
    await until(() => done === 8);
    expect(peak).toBe(2);
  });

  it("acks only after the handler resolves: a lost connection redelivers, and it reconnects by itself", async () => {
    const names = freshNames();
    const connectionName = runPrefix("conn");
    const seen: Delivery[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const consumer = await consume(
      names,
      async (d) => {
        seen.push(d);
        if (seen.length === 1) await held;
        return { action: "ack" };
      },
      4,
      connectionName,
    );
    await publisher.publishJson(names.exchange, names.routingKey, { n: 1 });
    await until(() => seen.length === 1);
    expect(await closeConnectionsNamed(connectionName)).toBe(1);
    await until(() => seen.length === 2, 15_000);
    release();
    expect(seen[1]?.redelivered).toBe(true);
    // The unsettled first delivery was an attempt: a message that kills its worker reaches the attempt limit.
    expect(seen.slice(0, 2).map((d) => d.attempt)).toEqual([1, 2]);
    expect(consumer.reconnectCount).toBeGreaterThanOrEqual(1);
    await until(() => consumer.isConsuming);
    await publisher.publishJson(names.exchange, names.routingKey, { n: 2 });
    await until(() => seen.length === 3);
    await sleep(100);
    expect((await admin.checkQueue(names.workQueue)).messageCount).toBe(0);
  }, 30_000);

  it("an error message too long for a header is cut short: the retry copy is still published", async () => {
    const names = freshNames();
    const seen: Delivery[] = [];
    await consume(names, async (d) => {
      seen.push(d);
      if (seen.length > 1) return { action: "ack" };
      return { action: "retry", error: retryableError("KOJI_TRANSPORT", "x".repeat(100_000)) };
    });
    await publisher.publishJson(names.exchange, names.routingKey, { n: 1 });
    await until(() => seen.length === 2);
    const lastError = String(seen[1]?.headers["x-last-error"]);
    expect(lastError.length).toBeLessThan(4200);
    expect(lastError).toMatch(/… \(100000 characters\)$/);
  });

  it("consumes again when the broker cancels its consumer (the work queue deleted under it)", async () => {
    const names = freshNames();
    const seen: Delivery[] = [];
    const consumer = await consume(names, async (d) => {
      seen.push(d);
      return { action: "ack" };
    });
    await admin.deleteQueue(names.workQueue);
    await until(() => consumer.reconnectCount >= 1);
    await until(() => consumer.isConsuming);
    await publisher.publishJson(names.exchange, names.routingKey, { n: 1 });
    await until(() => seen.length === 1);
  });

  it("stop() finishes in-flight work, acks it and closes cleanly", async () => {
    const names = freshNames();
    let finished = 0;
    const consumer = await consume(names, async () => {
      await sleep(300);
      finished += 1;
      return { action: "ack" };
    });
    await publisher.publishJson(names.exchange, names.routingKey, {});
    await until(async () => (await admin.checkQueue(names.workQueue)).messageCount === 0);
    await sleep(50);
    await consumer.stop();
    expect(finished).toBe(1);
    expect(consumer.isConsuming).toBe(false);
    const queue = await admin.checkQueue(names.workQueue);
    expect(queue.messageCount).toBe(0);
    expect(queue.consumerCount).toBe(0);
  });
});
