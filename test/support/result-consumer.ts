import { setTimeout as sleep } from "node:timers/promises";
import amqp, { type ChannelModel, type GetMessage } from "amqplib";
import { type ImportFinishedEvent, ImportFinishedEventSchema } from "../../src/schemas/event.js";
import { runPrefix } from "./servers.js";

/** A result event as a consumer receives it: the parsed body and the AMQP properties that matter. */
export interface ReceivedResult {
  event: ImportFinishedEvent;
  messageId: string;
  contentType: string | undefined;
  persistent: boolean;
  routingKey: string;
}

/**
 * What a system that waits for import results does: a durable queue of its own bound to the result routing key
 * on the importer's exchange. Messages are taken with basic.get; the connection is opened again when it was lost
 * (a test that restarts its broker), and the durable queue keeps what arrived meanwhile.
 */
export interface ResultConsumer {
  queue: string;
  /** Waits for `count` results and returns them in arrival order; throws naming what did arrive on timeout. */
  take(count: number, timeoutMs?: number): Promise<ReceivedResult[]>;
  /** Every result that arrives within `ms`: for "nothing more was published". */
  drainFor(ms: number): Promise<ReceivedResult[]>;
  close(): Promise<void>;
}

export async function bindResultConsumer(
  url: string,
  exchange: string,
  routingKey = "koji.import.finished",
): Promise<ResultConsumer> {
  const queue = `${runPrefix("results")}.results`;
  let model: ChannelModel | undefined;
  const channel = async () => {
    if (!model) {
      const opened = await amqp.connect(url);
      opened.on("error", () => undefined);
      opened.on("close", () => {
        if (model === opened) model = undefined;
      });
      model = opened;
    }
    const ch = await model.createChannel();
    ch.on("error", () => undefined);
    return ch;
  };
  const setup = await channel();
  await setup.assertExchange(exchange, "topic", { durable: true });
  await setup.assertQueue(queue, { durable: true });
  await setup.bindQueue(queue, exchange, routingKey);
  await setup.close();

  const decode = (message: GetMessage): ReceivedResult => ({
    event: ImportFinishedEventSchema.parse(JSON.parse(message.content.toString("utf8"))),
    messageId: String(message.properties.messageId),
    contentType: message.properties.contentType,
    persistent: message.properties.deliveryMode === 2,
    routingKey: message.fields.routingKey,
  });
  const getOne = async (): Promise<ReceivedResult | undefined> => {
    try {
      const ch = await channel();
      try {
        const message = await ch.get(queue, { noAck: true });
        return message ? decode(message) : undefined;
      } finally {
        await ch.close().catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof Error && /ECONNREFUSED|closed|ECONNRESET/i.test(error.message)) return undefined;
      throw error;
    }
  };

  return {
    queue,
    async take(count, timeoutMs = 20_000) {
      const got: ReceivedResult[] = [];
      const end = Date.now() + timeoutMs;
      while (got.length < count) {
        const result = await getOne();
        if (result) got.push(result);
        else if (Date.now() > end)
          throw new Error(
            `${got.length} of ${count} results arrived within ${timeoutMs} ms: ${got.map((r) => r.messageId).join(", ")}`,
          );
        else await sleep(25);
      }
      return got;
    },
    async drainFor(ms) {
      const got: ReceivedResult[] = [];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const result = await getOne();
        if (result) got.push(result);
        else await sleep(25);
      }
      return got;
    },
    async close() {
      const ch = await channel().catch(() => undefined);
      await ch?.deleteQueue(queue).catch(() => undefined);
      await model?.close().catch(() => undefined);
    },
  };
}
