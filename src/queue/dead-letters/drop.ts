import type { ConfirmChannel } from "amqplib";
import type { Logger } from "../../log.js";
import { type DeadLetterSummary, describeDeadLetter } from "./describe.js";
import { type DeadLetterSelection, takeDeadLetters } from "./select.js";

/**
 * Removes poison dead letters for good. Each is written to the log in full (headers and body) before it is
 * acked, so what was dropped can still be read, and published again by hand, from the log.
 */
export async function dropDeadLetters(
  channel: ConfirmChannel,
  queue: string,
  selection: DeadLetterSelection,
  options: { dryRun: boolean; logger: Logger; limit?: number },
): Promise<DeadLetterSummary[]> {
  return takeDeadLetters(channel, queue, selection, {
    dryRun: options.dryRun,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    act: async (message) => {
      options.logger.warn(
        {
          dead_letter: describeDeadLetter(message),
          headers: message.properties.headers ?? {},
          content_type: message.properties.contentType ?? null,
        },
        "dead letter dropped by an operator",
      );
    },
  });
}
