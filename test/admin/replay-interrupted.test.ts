import { randomUUID } from "node:crypto";
import amqp, { type Channel } from "amqplib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { replayDeadLetters } from "../../src/queue/dead-letters/replay.js";
import { EventPublisher, type TopologyNames } from "../../src/queue/index.js";
import { closeConnectionsNamed } from "../support/broker.js";
import { runPrefix, testAmqpUrl } from "../support/servers.js";
import { createTestTopology, type TestTopology } from "../support/topology.js";

let topology: TestTopology;
let channel: Channel;
let publisher: EventPublisher;
let names: TopologyNames;

beforeAll(async () => {
  topology = await createTestTopology("replay");
  ({ names, channel } = topology);
  publisher = await EventPublisher.open(testAmqpUrl());
});

afterAll(async () => {
  await topology.remove();
  await publisher.close();
});

it("a replay killed half-way loses nothing: each message is still dead-lettered or back in the work queue", async () => {
  const ids = Array.from({ length: 6 }, () => randomUUID());
  for (const id of ids) {
    await publisher.publishRaw(
      names.deadLetterExchange,
      "",
      Buffer.from(JSON.stringify({ compose_id: id })),
      {
        "x-compose-id": id,
      },
    );
  }
  // The replaying process: its broker connection is cut (as a SIGKILL would) right after the third move.
  const connectionName = runPrefix("replayer");
  const replayer = await amqp.connect(testAmqpUrl(), {
    clientProperties: { connection_name: connectionName },
  });
  replayer.on("error", () => undefined);
  const replayChannel = await replayer.createConfirmChannel();
  replayChannel.on("error", () => undefined);
  let cut: Promise<number> | undefined;
  const replay = replayDeadLetters(replayChannel, names, {
    all: true,
    onMoved: (moved) => {
      if (moved === 3) {
        cut = closeConnectionsNamed(connectionName);
        throw new Error("killed");
      }
    },
  });
  await expect(replay).rejects.toThrow("killed");
  expect(await cut).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 200));

  const bodies = async (queue: string) => {
    const found: string[] = [];
    for (
      let m = await channel.get(queue, { noAck: true });
      m;
      m = await channel.get(queue, { noAck: true })
    ) {
      found.push(JSON.parse(m.content.toString()).compose_id);
    }
    return found;
  };
  const work = await bodies(names.workQueue);
  const dead = await bodies(names.deadLetterQueue);
  expect(work).toHaveLength(3);
  expect(new Set([...work, ...dead])).toEqual(new Set(ids));
});
