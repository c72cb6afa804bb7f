import type { ChannelModel, ConfirmChannel } from "amqplib";
import type pg from "pg";
import type { ErrorCode } from "../error-codes.js";
import { retryableError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { publishConfirmed } from "../queue/confirmed-publish.js";
import { connectAmqp } from "../queue/connect.js";
import { backoffDelay, type Random } from "../retry/backoff.js";
import { type ImportFinishedEvent, importResultMessageId } from "../schemas/event.js";
import { inTransaction } from "../store/db.js";
import { guardClient } from "../store/lock-import.js";
import {
  claimPendingResults,
  markResultsPublished,
  type PendingResult,
  prunePublishedResults,
} from "../store/result-outbox.js";
import { crashPoint } from "./crash-hook.js";

export interface ResultRelayOptions {
  pool: pg.Pool;
  amqpUrl: string;
  exchange: string;
  routingKey: string;
  /** How long published rows are kept (for status views) before they are pruned. */
  retentionMs: number;
  metrics: Metrics;
  logger: Logger;
  /** How often the outbox is looked at without a wake(): results other processes committed, recovery. */
  pollIntervalMs?: number;
  batchSize?: number;
  pruneIntervalMs?: number;
  /** A broker that neither confirms nor closes the channel must not hold a batch's rows locked forever. */
  confirmTimeoutMs?: number;
  /** Jitter source of the backoff after a failed batch; tests pass a constant. */
  random?: Random;
}

/** After a failed batch the relay waits the importer's one backoff, from the poll interval up to this. */
const MAX_FAILURE_DELAY_MS = 30_000;

/** The result event of an outbox row, as ImportFinishedEventSchema describes it. */
export function resultEvent(row: PendingResult): ImportFinishedEvent {
  return {
    type: "koji.import.finished",
    version: 1,
    compose_id: row.compose_id,
    state: row.state,
    koji: { server: row.koji_server, build_id: row.koji_build_id, nvr: row.nvr },
    error:
      row.state === "imported"
        ? null
        : { code: row.error_code ?? ("IMPORT_FAILED" satisfies ErrorCode), message: row.error_message ?? "" },
    finished_at: row.finished_at.toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

/**
 * Publishes the import-result outbox: a batch of pending rows is locked (FOR UPDATE SKIP LOCKED, so relays in
 * other workers take other rows), published with publisher confirms, and marked sent in the same transaction.
 * A crash, a broker outage or a lost connection anywhere before the commit leaves the rows pending, and they are
 * published again: at least once, a duplicate carrying the same message_id. Runs on a timer and when the
 * pipeline commits a result (wake); sent rows older than the retention are pruned along the way.
 */
export class ResultRelay {
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private stopping = false;
  private woken = false;
  private interrupt: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastPrune = 0;
  private readonly pollMs: number;
  private readonly batchSize: number;

  constructor(private readonly options: ResultRelayOptions) {
    this.pollMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 100;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** A result was just committed: publish now instead of at the next poll. */
  wake(): void {
    this.woken = true;
    this.interrupt?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    await this.closeChannel();
  }

  /** Publishes pending results until none is left (or a batch fails); returns how many were published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await this.relayBatch();
      total += published;
      if (published < this.batchSize || this.stopping) return total;
    }
  }

  private async run(): Promise<void> {
    const backoff = { baseDelayMs: this.pollMs, maxDelayMs: MAX_FAILURE_DELAY_MS };
    let failures = 0;
    while (!this.stopping) {
      this.woken = false;
      let delay = this.pollMs;
      try {
        await this.drain();
        await this.pruneIfDue();
        failures = 0;
      } catch (error) {
        delay = backoffDelay(failures++, backoff, this.options.random);
        this.options.logger.warn(
          { err: error, retry_in_ms: delay },
          "cannot publish import results; retrying",
        );
        await this.closeChannel();
      }
      if (!this.woken && !this.stopping) await this.pause(delay);
    }
  }

  /**
   * Waits `ms`, or until wake(). A plain timer: an AbortController aborted on every wake, that is after nearly
   * every import, made a DOMException with its stack trace each time for a promise nobody reads.
   */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.interrupt = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async relayBatch(): Promise<number> {
    const client = await this.options.pool.connect();
    // Held across the broker's confirms: a connection that breaks meanwhile must not end the process.
    const guard = guardClient(client);
    let broken: Error | undefined;
    try {
      const published = await inTransaction(client, async () => {
        const rows = await claimPendingResults(client, this.batchSize);
        if (rows.length === 0) return [];
        crashPoint("result-claimed");
        await this.publish(rows);
        crashPoint("result-published");
        await markResultsPublished(
          client,
          rows.map((row) => row.id),
        );
        return rows;
      });
      for (const row of published) {
        this.options.metrics.resultsPublished.inc({ state: row.state });
        this.options.logger.info(
          {
            compose_id: row.compose_id,
            state: row.state,
            message_id: importResultMessageId(row.compose_id, row.state),
          },
          "import result published",
        );
      }
      return published.length;
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      guard.done();
      client.release(broken ?? (guard.lost.aborted ? new Error("connection lost") : undefined));
    }
  }

  private async publish(rows: PendingResult[]): Promise<void> {
    const channel = await this.openChannel();
    const { exchange, routingKey } = this.options;
    const confirms = Promise.all(
      rows.map((row) =>
        publishConfirmed(channel, exchange, routingKey, Buffer.from(JSON.stringify(resultEvent(row))), {
          persistent: true,
          contentType: "application/json",
          type: "koji.import.finished",
          messageId: importResultMessageId(row.compose_id, row.state),
          timestamp: Math.floor(Date.now() / 1000),
        }),
      ),
    );
    const timeoutMs = this.options.confirmTimeoutMs ?? 30_000;
    // A plain timer, cleared once the confirms are in (an aborted sleep would make a DOMException per batch).
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        confirms,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                retryableError(
                  "AMQP_CONFIRM_TIMEOUT",
                  `the broker confirmed no result within ${timeoutMs} ms`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      confirms.catch(() => undefined);
    }
  }

  private async openChannel(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    // A connect that hangs (a broker host gone silent) would hold the relay, and a stop, until the OS gives up.
    const model = await connectAmqp(this.options.amqpUrl, "osbuild-koji-importer result relay", {
      timeoutMs: 10_000,
    });
    model.on("error", () => undefined);
    try {
      const channel = await model.createConfirmChannel();
      channel.on("error", () => undefined);
      const lost = () => {
        if (this.model !== model) return;
        this.model = undefined;
        this.channel = undefined;
        model.close().catch(() => undefined);
      };
      model.on("close", lost);
      channel.on("close", lost);
      // The exchange composer publishes to; declared here too so a relay that starts first can publish.
      await channel.assertExchange(this.options.exchange, "topic", { durable: true });
      this.model = model;
      this.channel = channel;
      return channel;
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
  }

  private async closeChannel(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    await model?.close().catch(() => undefined);
  }

  private async pruneIfDue(): Promise<void> {
    const every = this.options.pruneIntervalMs ?? 60_000;
    if (Date.now() - this.lastPrune < every) return;
    this.lastPrune = Date.now();
    const pruned = await prunePublishedResults(this.options.pool, this.options.retentionMs);
    if (pruned > 0) this.options.logger.info({ pruned }, "published import results pruned");
  }
}
