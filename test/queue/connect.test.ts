import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectAmqp } from "../../src/queue/connect.js";
import { replayDeadLetters } from "../../src/queue/dead-letters/replay.js";
import type { TopologyNames } from "../../src/queue/index.js";
import { runPrefix, testAmqpUrl } from "../support/servers.js";
import { createTestTopology, type TestTopology } from "../support/topology.js";

/**
 * The service's AMQP connections send small frames at once. With amqplib's default (Nagle's algorithm on), a
 * frame written while the previous one waits for the broker's delayed TCP acknowledgement is held up to 40 ms: a
 * dead-letter replay (get, publish and confirm, ack, then the next get on the same channel) took 45.6 ms a letter
 * on this project's machine, 300 in 13.7 s; with TCP_NODELAY 2.0 ms, 0.6 s.
 */
const LETTERS = 100;

let topology: TestTopology;
let names: TopologyNames;
let model: ChannelModel;
let channel: ConfirmChannel;

beforeAll(async () => {
  topology = await createTestTopology("nodelay");
  names = topology.names;
  model = await connectAmqp(testAmqpUrl(), runPrefix("replayer"));
  channel = await model.createConfirmChannel();
});

afterAll(async () => {
  await model?.close();
  await topology?.remove();
});

it("replays a hundred dead letters without a Nagle delay per letter", async () => {
  for (let i = 0; i < LETTERS; i++) {
    channel.publish(names.deadLetterExchange, "", Buffer.from(JSON.stringify({ compose_id: `c${i}` })), {
      persistent: true,
    });
  }
  await channel.waitForConfirms();
  const started = Date.now();
  const moved = await replayDeadLetters(channel, names, { all: true });
  const elapsed = Date.now() - started;
  expect(moved).toHaveLength(LETTERS);
  // Held back, each letter would wait up to 40 ms: 4 s and more for the hundred.
  expect(elapsed).toBeLessThan(LETTERS * 20);
});

it("every AMQP connection of the service is opened by connectAmqp", () => {
  const opened: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith(".ts") && path !== join("src", "queue", "connect.ts")) {
        if (/\bamqp\.connect\(/.test(readFileSync(path, "utf8"))) opened.push(path);
      }
    }
  };
  walk("src");
  expect(opened).toEqual([]);
});
