import { setTimeout as sleep } from "node:timers/promises";
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import { toImporterError } from "../errors.js";
import type { Logger } from "../log.js";
import { publishConfirmed } from "./confirmed-publish.js";
import {
  attemptOf,
  type Delivery,
  type DeliveryHandler,
  deadLetterHeaders,
  type Outcome,
  retryHeaders,
} from "./delivery.js";
import { declareTopology, retryQueueFor, type TopologyNames } from "./topology.js";

export interface ConsumerOptions {
  url: string;
  names: TopologyNames;
  prefetch: number;
  handler: DeliveryHandler;
  logger: Logger;
  /** Reconnect backoff: doubles from `min` to `max`. */
  reconnectDelayMs?: { min: number; max: number };
  /** Shown in the broker's connection list, so an SRE can tell the importer's connections apart. */
  connectionName?: string;
  /** How long stop() waits for in-flight handlers before closing anyway (they are then redelivered). */
  drainTimeoutMs?: number;
}

/**
 * Consumes the work queue with manual acks and a bounded prefetch, and carries out each handler's Outcome:
 * a retry or dead-letter copy is published and confirmed before the original is acked, so a crash between the
 * two can duplicate a message (imports are idempotent) but never lose one. When the broker or the channel goes
 * away it reconnects with backoff; unacked messages go back to the queue and are redelivered.
 */
export class QueueConsumer {
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private consumerTag: string | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private connected: Promise<void> | undefined;
  private reconnects = 0;

  constructor(private readonly options: ConsumerOptions) {}

  /** Resolves once consuming; reconnects go on in the background until stop(). */
  async start(): Promise<void> {
    this.connected = this.connectWithRetry();
    await this.connected;
  }

  get isConsuming(): boolean {
    return this.consumerTag !== undefined && !this.stopping;
  }

  get reconnectCount(): number {
    return this.reconnects;
  }

  /** Stops taking messages, lets in-flight ones finish (bounded), then closes channel and connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    const { channel, consumerTag } = this;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
    this.consumerTag = undefined;
    const drain = Promise.allSettled([...this.inFlight]);
    await Promise.race([drain, sleep(this.options.drainTimeoutMs ?? 30_000)]);
    await this.channel?.close().catch(() => undefined);
    await this.model?.close().catch(() => undefined);
    this.channel = undefined;
    this.model = undefined;
  }

  private async connectWithRetry(): Promise<void> {
    const { min, max } = this.options.reconnectDelayMs ?? { min: 500, max: 30_000 };
    let delay = min;
    while (!this.stopping) {
      try {
        await this.connect();
        return;
      } catch (error) {
        this.options.logger.warn({ err: error, retry_in_ms: delay }, "cannot reach the broker; retrying");
        await sleep(delay);
        delay = Math.min(delay * 2, max);
      }
    }
  }

  private async connect(): Promise<void> {
    const model = await amqp.connect(this.options.url, {
      clientProperties: { connection_name: this.options.connectionName ?? "osbuild-koji-importer worker" },
    });
    model.on("error", () => undefined);
    // Set once a loss of this connection has started a reconnect loop of its own.
    let handedOver = false;
    const lost = (what: string) => (error?: Error) => {
      if (this.stopping || this.model !== model) return;
      handedOver = true;
      this.options.logger.warn({ err: error }, `AMQP ${what} lost; reconnecting`);
      this.model = undefined;
      this.channel = undefined;
      this.consumerTag = undefined;
      model.close().catch(() => undefined);
      this.reconnects += 1;
      this.connected = this.connectWithRetry();
    };
    try {
      const channel = await model.createConfirmChannel();
      channel.on("error", () => undefined);
      model.on("close", lost("connection"));
      channel.on("close", lost("channel"));
      await declareTopology(channel, this.options.names);
      await channel.prefetch(this.options.prefetch);
      if (this.stopping) throw new Error("stopped while connecting");
      this.model = model;
      this.channel = channel;
      const cancelled = lost("consumer (cancelled by the broker)");
      const { consumerTag } = await channel.consume(
        this.options.names.workQueue,
        (message) => {
          // null: the broker cancelled this consumer (its queue deleted, a node lost); consume again afresh.
          if (message) this.track(this.handle(channel, message));
          else cancelled();
        },
        { noAck: false },
      );
      this.consumerTag = consumerTag;
    } catch (error) {
      if (this.model === model) {
        this.model = undefined;
        this.channel = undefined;
      }
      await model.close().catch(() => undefined);
      // A loss already handled has its own reconnect loop; a second one would consume twice.
      if (handedOver || this.stopping) return;
      throw error;
    }
    this.options.logger.info(
      { queue: this.options.names.workQueue, prefetch: this.options.prefetch },
      "consuming",
    );
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    work.finally(() => this.inFlight.delete(work));
  }

  private async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const headers = message.properties.headers ?? {};
    const delivery: Delivery = {
      body: message.content,
      headers,
      attempt: attemptOf(headers),
      messageId: message.properties.messageId,
      redelivered: message.fields.redelivered,
    };
    let outcome: Outcome;
    try {
      outcome = await this.options.handler(delivery);
    } catch (error) {
      // The pipeline's handler bounds its own failures by the attempt limit; one that throws anyway has a bug,
      // and retrying keeps the message.
      outcome = { action: "retry", error: toImporterError(error) };
    }
    try {
      await this.carryOut(channel, message, delivery, outcome);
      channel.ack(message);
    } catch (error) {
      // Nothing was acked. On a closed channel the broker redelivers the message by itself; on an open one (the
      // broker refused the retry or dead-letter copy) it would stay unacked, holding a prefetch place, forever.
      try {
        channel.nack(message, false, true);
      } catch {
        // The channel is closed: redelivery is the broker's.
      }
      this.options.logger.warn(
        { err: error, action: outcome.action },
        "could not settle a message; it will be redelivered",
      );
    }
  }

  private async carryOut(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    delivery: Delivery,
    outcome: Outcome,
  ) {
    const properties = {
      contentType: message.properties.contentType,
      messageId: message.properties.messageId,
      timestamp: message.properties.timestamp,
    };
    if (outcome.action === "retry") {
      const queue = retryQueueFor(this.options.names, delivery.attempt);
      await publishConfirmed(channel, "", queue.name, message.content, {
        ...properties,
        headers: retryHeaders(delivery.headers, delivery.attempt, outcome.error),
      });
    } else if (outcome.action === "dead-letter") {
      const headers = deadLetterHeaders(
        delivery.headers,
        delivery.attempt,
        outcome.error,
        outcome.composeId,
        message.fields.routingKey,
        new Date(),
      );
      await publishConfirmed(channel, this.options.names.deadLetterExchange, "", message.content, {
        ...properties,
        headers,
      });
    }
  }
}
