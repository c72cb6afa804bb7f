import type { ConfirmChannel } from "amqplib";
import { publishConfirmed } from "../confirmed-publish.js";
import { ATTEMPT_HEADER, REPLAYED_HEADER, replaysOf, withoutDeliveryCount } from "../delivery.js";
import type { DeadLetterSummary } from "./describe.js";
import { type DeadLetterSelection, takeDeadLetters } from "./select.js";

export interface ReplayRequest {
  composeIds?: readonly string[];
  code?: string;
  all?: boolean;
  dryRun?: boolean;
  limit?: number;
  /** Called after each message is moved; tests use it to stop a replay half-way. */
  onMoved?: (moved: number) => void;
}

export function selectionOf(request: {
  composeIds?: readonly string[];
  code?: string;
  all?: boolean;
}): DeadLetterSelection {
  if (request.all === true) return { all: true };
  if (request.code !== undefined) return { code: request.code };
  return { composeIds: request.composeIds ?? [] };
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
  return takeDeadLetters(channel, queues.deadLetterQueue, selectionOf(request), {
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
    ...(request.dryRun !== undefined ? { dryRun: request.dryRun } : {}),
    ...(request.onMoved ? { onTaken: request.onMoved } : {}),
    act: async (message) => {
      // A dead letter from before the delivery count was folded into x-attempts may still carry it.
      const headers = withoutDeliveryCount(message.properties.headers ?? {});
      await publishConfirmed(channel, "", queues.workQueue, message.content, {
        contentType: message.properties.contentType,
        messageId: message.properties.messageId,
        headers: { ...headers, [ATTEMPT_HEADER]: 1, [REPLAYED_HEADER]: replaysOf(headers) + 1 },
      });
    },
  });
}
