import { randomUUID } from "node:crypto";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { publishConfirmed } from "./confirmed-publish.js";
import { connectAmqp } from "./connect.js";

/**
 * A confirmed publisher for events (tests, the demo, the bench, and the admin's retry), playing composer's part.
 * Every publish resolves only once the broker has the message.
 */
export class EventPublisher {
  private constructor(
    private readonly model: ChannelModel,
    readonly channel: ConfirmChannel,
  ) {}

  static async open(url: string): Promise<EventPublisher> {
    const model = await connectAmqp(url, "osbuild-koji-importer event publisher");
    const channel = await model.createConfirmChannel();
    return new EventPublisher(model, channel);
  }

  publishJson(exchange: string, routingKey: string, body: unknown, headers: Record<string, unknown> = {}) {
    return this.publishRaw(exchange, routingKey, Buffer.from(JSON.stringify(body)), headers);
  }

  publishRaw(exchange: string, routingKey: string, body: Buffer, headers: Record<string, unknown> = {}) {
    return publishConfirmed(this.channel, exchange, routingKey, body, {
      contentType: "application/json",
      messageId: randomUUID(),
      timestamp: Math.floor(Date.now() / 1000),
      headers,
    });
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }
}
