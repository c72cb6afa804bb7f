import type { ConfirmChannel, GetMessage } from "amqplib";
import { publishConfirmed } from "../confirmed-publish.js";
import { ATTEMPT_HEADER, REPLAYED_HEADER, replaysOf, withoutDeliveryCount } from "../delivery.js";
import { composeIdOf, type DeadLetterSummary, describeDeadLetter } from "./describe.js";

export interface ReplayRequest {
  composeIds?: readonly string[];
  all?: boolean;
  dryRun?: boolean;
  limit?: number;
  /** Called after each message is moved; tests use it to stop a replay half-way. */
  onMoved?: (moved: number) => void;
}

/**
 * Moves matching dead letters back to the work queue. Each copy is published and confirmed before its dead
 * letter is acked, so a crash can leave a message in both queues (harmless: imports are idempotent) but never
 * in neither. The copy starts its attempts afresh and counts replays in `x-replayed`. Messages that do not match
 * are put back unchanged; a dry run moves nothing and reports what would move.
 */
export async function replayDeadLetters(
  channel: ConfirmChannel,
  queues: { deadLetterQueue: string; workQueue: string },
  request: ReplayRequest,
): Promise<DeadLetterSummary[]> {
  const wanted = new Set(request.composeIds ?? []);
  const matches = (message: GetMessage) => request.all === true || wanted.has(composeIdOf(message) ?? "");
  const limit = request.limit ?? Number.POSITIVE_INFINITY;
  // Only messages present at the start are visited: the loop ends even while new dead letters arrive.
  const { messageCount } = await channel.checkQueue(queues.deadLetterQueue);
  const kept: GetMessage[] = [];
  const moved: DeadLetterSummary[] = [];
  try {
    for (let visited = 0; visited < messageCount && moved.length < limit; visited++) {
      const message = await channel.get(queues.deadLetterQueue, { noAck: false });
      if (message === false) break;
      if (!matches(message) || request.dryRun) {
        kept.push(message);
        if (matches(message)) moved.push(describeDeadLetter(message));
        continue;
      }
      // A dead letter from before the delivery count was folded into x-attempts may still carry it.
      const headers = withoutDeliveryCount(message.properties.headers ?? {});
      await publishConfirmed(channel, "", queues.workQueue, message.content, {
        contentType: message.properties.contentType,
        messageId: message.properties.messageId,
        headers: { ...headers, [ATTEMPT_HEADER]: 1, [REPLAYED_HEADER]: replaysOf(headers) + 1 },
      });
      channel.ack(message);
      moved.push(describeDeadLetter(message));
      request.onMoved?.(moved.length);
    }
  } finally {
    for (const message of kept) channel.nack(message, false, true);
  }
  return moved;
}
