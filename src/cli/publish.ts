import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { brokerUnavailable } from "../admin/amqp.js";
import { loadConfig } from "../config/load.js";
import { permanentError } from "../errors.js";
import { publishConfirmed } from "../queue/confirmed-publish.js";
import { connectAmqp } from "../queue/connect.js";
import { isKojiEvent, parseComposeFinishedEvent } from "../schemas/event.js";
import { readJsonFile } from "./read-json-file.js";
import { print } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "publish a compose-finished event by hand (validated first, confirmed by the broker)";
export const usage = [
  "usage: osbuild-koji-importer publish --event E.json [--json]",
  "",
  "Re-injects a compose: the event is checked as the worker checks it, then published to AMQP_EXCHANGE with",
  "AMQP_ROUTING_KEY, as composer does, and the command returns once the broker has confirmed it. An event that",
  "no queue would receive (the worker never declared its queue under these names) is an error.",
].join("\n");

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = usageOnError(usage, () =>
    parseArgs({ args: argv, options: { event: { type: "string" }, json: { type: "boolean" } } }),
  );
  if (!values.event || positionals.length > 0) throw new UsageError("missing --event", usage);
  const event = parseComposeFinishedEvent(await readJsonFile(values.event));
  if (!isKojiEvent(event)) {
    throw permanentError(
      "EVENT_NOT_KOJI",
      `${values.event}: the event has no koji section; nothing would be imported`,
    );
  }
  const config = loadConfig();
  const model = await connectAmqp(config.AMQP_URL, "osbuild-koji-importer publish").catch(
    (error: unknown) => {
      throw brokerUnavailable(config.AMQP_URL, error);
    },
  );
  try {
    const channel = await model.createConfirmChannel();
    let unroutable = false;
    // A mandatory message no queue takes comes back before its confirm.
    channel.on("return", () => {
      unroutable = true;
    });
    const messageId = randomUUID();
    await publishConfirmed(
      channel,
      config.AMQP_EXCHANGE,
      config.AMQP_ROUTING_KEY,
      Buffer.from(JSON.stringify(event)),
      {
        contentType: "application/json",
        messageId,
        timestamp: Math.floor(Date.now() / 1000),
        mandatory: true,
      },
    ).catch((error: unknown) => {
      throw permanentError(
        "PUBLISH_FAILED",
        `${(error as Error).message}: check that exchange ${config.AMQP_EXCHANGE} exists (the worker declares it)`,
      );
    });
    if (unroutable) {
      throw permanentError(
        "PUBLISH_UNROUTED",
        `no queue is bound to ${config.AMQP_EXCHANGE} with ${config.AMQP_ROUTING_KEY}; the event was dropped: start the worker once (it declares its queues) or check AMQP_EXCHANGE and AMQP_ROUTING_KEY`,
      );
    }
    const answer = {
      compose_id: event.compose_id,
      exchange: config.AMQP_EXCHANGE,
      routing_key: config.AMQP_ROUTING_KEY,
      message_id: messageId,
    };
    print(
      values.json === true,
      answer,
      () =>
        `published compose-finished for compose ${event.compose_id} to ${config.AMQP_EXCHANGE} (${config.AMQP_ROUTING_KEY}), message id ${messageId}`,
    );
    return 0;
  } finally {
    await model.close().catch(() => undefined);
  }
}
