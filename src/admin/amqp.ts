import type { ChannelModel, ConfirmChannel } from "amqplib";
import { retryableError } from "../errors.js";
import type { Logger } from "../log.js";
import { connectAmqp } from "../queue/connect.js";

/** Where the broker is, without credentials, for messages. */
export function brokerAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === "amqps:" ? 5671 : 5672)}`;
  } catch {
    return "the broker (AMQP_URL is not a URL)";
  }
}

/** A connection that could not be made, as BROKER_UNAVAILABLE: the CLI says so in one line, HTTP with 503. */
export function brokerUnavailable(url: string, error: unknown): Error {
  const cause = error as { message?: string; code?: string };
  return retryableError(
    "BROKER_UNAVAILABLE",
    `RabbitMQ unavailable at ${brokerAddress(url)}: ${cause.message || cause.code || String(error)}`,
    { cause: error },
  );
}

/**
 * The admin's broker connection: opened on first use, opened again after it is lost, and a channel of its own
 * per operation, so a dead-letter peek's unacked messages never mix with another request's.
 */
export class AdminAmqp {
  private model: Promise<ChannelModel> | undefined;
  private open = false;

  /** `logger`: where a lost connection is said; the CLI's short-lived commands give none. */
  constructor(
    private readonly url: string,
    private readonly logger?: Logger,
  ) {}

  private connection(): Promise<ChannelModel> {
    if (!this.model || !this.open) {
      this.model = connectAmqp(this.url, "osbuild-koji-importer admin")
        .then((model) => {
          this.open = true;
          // amqplib emits 'error' and then 'close' with the same error; 'close' says it. Without a listener an
          // 'error' would end the process.
          model.on("error", () => undefined);
          model.on("close", (error?: Error) => {
            this.open = false;
            if (error)
              this.logger?.warn(
                { err: error, broker: brokerAddress(this.url) },
                "admin broker connection lost; the next request opens another",
              );
          });
          return model;
        })
        .catch((error: unknown) => {
          throw brokerUnavailable(this.url, error);
        });
      // The caller awaiting this promise gets the failure (BROKER_UNAVAILABLE); this only forgets it, so the next
      // request connects again instead of failing on the old attempt.
      this.model.catch(() => {
        this.model = undefined;
      });
    }
    return this.model;
  }

  async withChannel<T>(work: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    const channel = await (await this.connection()).createConfirmChannel();
    // A channel error (the broker refusing an operation) also rejects that operation's promise, which `work`
    // sees and reports; the 'error' event only needs a listener so that it does not end the process.
    channel.on("error", () => undefined);
    try {
      return await work(channel);
    } finally {
      // A channel the broker closed after an error cannot be closed again; what `work` got is what matters.
      await channel.close().catch(() => undefined);
    }
  }

  /** "ok" when a connection and a channel can be had, else why not (readiness, as /readyz shows it). */
  async check(): Promise<string> {
    try {
      await this.withChannel(async () => undefined);
      return "ok";
    } catch (error) {
      return `unreachable: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  async close(): Promise<void> {
    // A connection that was never made has nothing to close; its failure went to the request that asked for it.
    const model = await this.model?.catch(() => undefined);
    this.model = undefined;
    // Closing at shutdown a connection the broker already dropped fails; there is nothing left to do with it.
    await model?.close().catch(() => undefined);
  }
}
