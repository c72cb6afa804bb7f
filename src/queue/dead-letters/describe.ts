import type { Message } from "amqplib";
import { composeIdOfBody } from "../../schemas/event.js";
import { replaysOf } from "../delivery.js";

/**
 * How much of a dead letter's body a listing shows. What lands here includes the events refused for their size
 * (`EVENT_TOO_LARGE`), up to the broker's own message limit (16 MiB by default): a page of a hundred of those must
 * not cost the admin process gigabytes, nor the CLI's terminal. The whole message stays in the queue.
 */
export const DEAD_LETTER_BODY_SHOWN_BYTES = 64 * 1024;

/** What `dlq list` and GET /v1/dead-letters show of one dead-lettered message. */
export interface DeadLetterSummary {
  compose_id: string | null;
  reason: string | null;
  error_code: string | null;
  error_class: string | null;
  attempts: number | null;
  first_death_at: string | null;
  last_failure_at: string | null;
  replayed: number;
  message_id: string | null;
  /**
   * The message as it arrived, as UTF-8 text (an event that is not JSON can be read here), its first
   * DEAD_LETTER_BODY_SHOWN_BYTES when `body_truncated`.
   */
  body: string;
  body_bytes: number;
  body_truncated: boolean;
}

function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

/**
 * The compose id from the headers, or from the body for messages that failed before it was known; a body over the
 * shown size or nested too deep is not parsed (the pipeline gave such letters the header when it could read one).
 */
export function composeIdOf(message: Message): string | null {
  const fromHeader = text(message.properties.headers?.["x-compose-id"]);
  if (fromHeader) return fromHeader;
  return composeIdOfBody(message.content, DEAD_LETTER_BODY_SHOWN_BYTES) ?? null;
}

/** The body's first bytes as text, without a character cut in half at the end. */
function shownBody(content: Buffer): { body: string; body_truncated: boolean } {
  if (content.length <= DEAD_LETTER_BODY_SHOWN_BYTES)
    return { body: content.toString("utf8"), body_truncated: false };
  const head = content.subarray(0, DEAD_LETTER_BODY_SHOWN_BYTES).toString("utf8");
  return { body: head.replace(/\uFFFD{1,3}$/u, ""), body_truncated: true };
}

export function describeDeadLetter(message: Message): DeadLetterSummary {
  const headers = message.properties.headers ?? {};
  const attempts = Number(headers["x-attempts"]);
  return {
    compose_id: composeIdOf(message),
    reason: text(headers["x-death-reason"]),
    error_code: text(headers["x-error-code"]),
    error_class: text(headers["x-error-class"]),
    attempts: Number.isFinite(attempts) ? attempts : null,
    first_death_at: text(headers["x-first-death-at"]),
    last_failure_at: text(headers["x-last-failure-at"]),
    replayed: replaysOf(headers),
    message_id: text(message.properties.messageId),
    ...shownBody(message.content),
    body_bytes: message.content.length,
  };
}
