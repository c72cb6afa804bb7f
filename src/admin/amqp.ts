import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import { retryableError } from "../errors.js";

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

  constructor(private readonly url: string) {}

  private connection(): Promise<ChannelModel> {
    if (!this.model || !this.open) {
      this.model = amqp
        .connect(this.url, { clientProperties: { connection_name: "osbuild-koji-importer admin" } })
        .then((model) => {
          this.open = true;
          model.on("error", () => undefined);
          model.on("close", () => {
            this.open = false;
          });
          return model;
        })
        .catch((error: unknown) => {
          throw brokerUnavailable(this.url, error);
        });
      this.model.catch(() => {
        this.model = undefined;
      });
    }
    return this.model;
  }

  async withChannel<T>(work: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    const channel = await (await this.connection()).createConfirmChannel();
    channel.on("error", () => undefined);
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** True when a connection can be had (readiness). */
  async ready(): Promise<boolean> {
    try {
      await this.withChannel(async () => undefined);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const model = await this.model?.catch(() => undefined);
    this.model = undefined;
    await model?.close().catch(() => undefined);
  }
}
