import type { Channel, GetMessage } from "amqplib";
import { type DeadLetterSummary, describeDeadLetter } from "./describe.js";

/**
 * Reads up to `limit` dead letters without consuming them: each is fetched unacked and, once all are read, put
 * back with nack(requeue), unchanged and in order. (Nacking one at a time would fetch the same message again.)
 * If this process dies meanwhile, the broker requeues them by itself. Each is described as it arrives and only the
 * last is kept (for its delivery tag), so a page of large letters holds their shown parts, not their bodies.
 */
export async function peekDeadLetters(
  channel: Channel,
  queue: string,
  limit: number,
): Promise<DeadLetterSummary[]> {
  const { messageCount } = await channel.checkQueue(queue);
  const described: DeadLetterSummary[] = [];
  let last: GetMessage | undefined;
  try {
    while (described.length < Math.min(limit, messageCount)) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) break;
      last = message;
      described.push(describeDeadLetter(message));
    }
    return described;
  } finally {
    // nack(last, allUpTo) returns every message held on this channel in one frame.
    if (last) channel.nack(last, true, true);
  }
}
