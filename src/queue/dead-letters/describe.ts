import type { Message } from "amqplib";
import { replaysOf } from "../delivery.js";

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
  /** The message as it arrived, as UTF-8 text (an event that is not JSON can be read here). */
  body: string;
}

function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

/** The compose id from the headers, or from the body for messages that failed before it was known. */
export function composeIdOf(message: Message): string | null {
  const fromHeader = text(message.properties.headers?.["x-compose-id"]);
  if (fromHeader) return fromHeader;
  try {
    const id = (JSON.parse(message.content.toString("utf8")) as { compose_id?: unknown }).compose_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
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
    body: message.content.toString("utf8"),
  };
}
