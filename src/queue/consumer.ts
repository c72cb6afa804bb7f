import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { toImporterError } from "../errors.js";
import type { Logger } from "../log.js";
import { type Backoff, backoffDelay, type Random } from "../retry/backoff.js";
import { publishConfirmed } from "./confirmed-publish.js";
import { connectAmqp } from "./connect.js";
import {
  attemptOf,
  type Delivery,
  type DeliveryHandler,
  deadLetterHeaders,
  type Outcome,
  requeueHeaders,
  retryHeaders,
} from "./delivery.js";
import { declareTopology, retryQueueFor, type TopologyNames } from "./topology.js";

export interface ConsumerOptions {
  url: string;
  names: TopologyNames;
  prefetch: number;
  handler: DeliveryHandler;
  logger: Logger;
  /**
   * Between reconnect attempts, the importer's one backoff (src/retry/backoff.ts); its cap is kept short, so
   * imports resume soon after the broker is back.
   */
  reconnectBackoff?: Backoff;
  /** Jitter source of the backoff; tests pass a constant. */
  random?: Random;
  /** Shown in the broker's connection list, so an SRE can tell the importer's connections apart. */
  connectionName?: string;
  /** How long stop() waits for in-flight handlers before it aborts them and closes (they are then redelivered). */
  drainTimeoutMs?: number;
  /** Consume at once (true), or only once open() is called: the worker opens it while the database is usable. */
  open?: boolean;
}

const DEFAULT_RECONNECT_BACKOFF: Backoff = { baseDelayMs: 250, maxDelayMs: 2000 };

/** After the drain timeout, how long aborted handlers get to settle before the channel closes under them. */
const ABORT_GRACE_MS = 2000;

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
  private gateOpen: boolean;
  /** Changes of the gate, applied one after the other (a cancel and a consume must not overlap). */
  private gateChange: Promise<void> = Promise.resolve();
  private readonly stoppingController = new AbortController();
  private readonly abortController = new AbortController();
  private readonly consumingWaiters = new Set<() => void>();

  constructor(private readonly options: ConsumerOptions) {
    this.gateOpen = options.open ?? true;
  }

  /** Connects in the background (with reconnects until stop()); resolves once connected, or at stop(). */
  start(): Promise<void> {
    this.connected ??= this.connectWithRetry();
    return this.connected;
  }

  get isConsuming(): boolean {
    return this.consumerTag !== undefined && !this.stopping;
  }

  /** Connected to the broker with the topology declared, consuming or not. */
  get isConnected(): boolean {
    return this.channel !== undefined && !this.stopping;
  }

  get reconnectCount(): number {
    return this.reconnects;
  }

  /** Resolves when the consumer is consuming (now or later). */
  whenConsuming(): Promise<void> {
    if (this.isConsuming) return Promise.resolve();
    return new Promise((resolve) => this.consumingWaiters.add(resolve));
  }

  /** Opens or closes the gate: consume while open; while closed no delivery is taken (in-flight ones go on). */
  setOpen(open: boolean): Promise<void> {
    if (open === this.gateOpen) return this.gateChange;
    this.gateOpen = open;
    return this.reconcile();
  }

  /** Consumes or cancels to match the gate, after any change still under way. */
  private reconcile(): Promise<void> {
    this.gateChange = this.gateChange
      .then(() => this.applyGate())
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error }, "could not pause or resume consuming"),
      );
    return this.gateChange;
  }

  private async applyGate(): Promise<void> {
    const { channel } = this;
    if (!channel || this.stopping) return;
    if (this.gateOpen && this.consumerTag === undefined) await this.consume(channel);
    else if (!this.gateOpen && this.consumerTag !== undefined) {
      const tag = this.consumerTag;
      this.consumerTag = undefined;
      await channel.cancel(tag);
      this.options.logger.info({ queue: this.options.names.workQueue }, "paused: taking no deliveries");
    }
  }

  /**
   * Stops taking messages at once and asks in-flight handlers to finish their current step; after `drainTimeoutMs`
   * it aborts them, gives them a moment to settle, and closes channel and connection (unsettled messages are then
   * redelivered, as after a crash). Idle, it returns at once.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stoppingController.abort();
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    // Cancelling on a channel the broker already closed fails; a closed channel delivers nothing anyway.
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
    if (this.inFlight.size > 0) {
      const drained = await this.drain(this.options.drainTimeoutMs ?? 30_000);
      if (!drained) {
        this.options.logger.warn(
          { in_flight: this.inFlight.size },
          "shutdown timeout: abandoning the imports in flight; their events are redelivered",
        );
        this.abortController.abort();
        await this.drain(ABORT_GRACE_MS);
      }
    }
    // Closing what the broker already closed fails; at shutdown there is nothing more to do with either.
    await this.channel?.close().catch(() => undefined);
    await this.model?.close().catch(() => undefined);
    this.channel = undefined;
    this.model = undefined;
    for (const resolve of this.consumingWaiters) resolve();
  }

  /** True when every handler in flight has settled within `ms`; the timer never outlives the wait. */
  private async drain(ms: number): Promise<boolean> {
    const timer = new AbortController();
    // The timer is aborted below once the handlers settled first: that abort is no failure.
    const timeout = sleep(ms, false, { signal: timer.signal }).catch(() => false);
    const done = Promise.allSettled([...this.inFlight]).then(() => true);
    try {
      return await Promise.race([done, timeout]);
    } finally {
      timer.abort();
    }
  }

  private async connectWithRetry(): Promise<void> {
    const backoff = this.options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF;
    for (let retry = 0; !this.stopping; retry++) {
      try {
        await this.connect();
        return;
      } catch (error) {
        const delay = backoffDelay(retry, backoff, this.options.random);
        this.options.logger.warn({ err: error, retry_in_ms: delay }, "cannot reach the broker; retrying");
        // stop() aborts the wait; the loop's condition then ends it.
        await sleep(delay, undefined, { signal: this.stoppingController.signal }).catch(() => undefined);
      }
    }
  }

  private async consume(channel: ConfirmChannel): Promise<void> {
    const cancelled = this.lostHandler?.("consumer (cancelled by the broker)");
    const { consumerTag } = await channel.consume(
      this.options.names.workQueue,
      (message) => {
        // null: the broker cancelled this consumer (its queue deleted, a node lost); consume again afresh.
        if (message) this.track(this.handle(channel, message));
        else cancelled?.();
      },
      { noAck: false },
    );
    this.consumerTag = consumerTag;
    this.options.logger.info(
      { queue: this.options.names.workQueue, prefetch: this.options.prefetch },
      "consuming",
    );
    for (const resolve of this.consumingWaiters) resolve();
    this.consumingWaiters.clear();
  }

  /** The current connection's loss handler, for a consumer the broker cancels. */
  private lostHandler: ((what: string) => () => void) | undefined;

  private async connect(): Promise<void> {
    const model = await connectAmqp(
      this.options.url,
      this.options.connectionName ?? "osbuild-koji-importer worker",
    );
    // amqplib emits 'error' and then 'close' with the same error: `lost` below logs it from 'close' and reconnects.
    // Without a listener an 'error' would end the process.
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
      // Tidying a connection already lost (its loss is logged above): closing it may fail, and changes nothing.
      model.close().catch(() => undefined);
      this.reconnects += 1;
      this.connected = this.connectWithRetry();
    };
    try {
      const channel = await model.createConfirmChannel();
      // A channel's 'close' comes without the error its 'error' had (the broker closing it, say for a
      // PRECONDITION_FAILED): kept here so that `lost` logs it. A listener also keeps the process alive.
      let channelError: Error | undefined;
      channel.on("error", (error: Error) => {
        channelError = error;
      });
      model.on("close", lost("connection"));
      const channelLost = lost("channel");
      channel.on("close", () => channelLost(channelError));
      await declareTopology(channel, this.options.names);
      await channel.prefetch(this.options.prefetch);
      if (this.stopping) throw new Error("stopped while connecting");
      this.model = model;
      this.channel = channel;
      this.lostHandler = lost;
      if (!this.gateOpen)
        this.options.logger.info({ queue: this.options.names.workQueue }, "connected; not consuming yet");
      await this.reconcile();
    } catch (error) {
      if (this.model === model) {
        this.model = undefined;
        this.channel = undefined;
      }
      // The set-up's own error is the one rethrown and logged by the reconnect loop; this connection is abandoned.
      await model.close().catch(() => undefined);
      // A loss already handled has its own reconnect loop; a second one would consume twice.
      if (handedOver || this.stopping) return;
      throw error;
    }
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
      outcome = await this.options.handler(delivery, {
        stopping: this.stoppingController.signal,
        abort: this.abortController.signal,
      });
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
      // A publisher that set no message id gets one here, so each retry and dead letter can be named (dlq list).
      messageId: message.properties.messageId ?? randomUUID(),
      timestamp: message.properties.timestamp,
    };
    if (outcome.action === "requeue") {
      await publishConfirmed(channel, "", this.options.names.workQueue, message.content, {
        ...properties,
        headers: requeueHeaders(delivery.headers, delivery.attempt),
      });
    } else if (outcome.action === "retry") {
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
