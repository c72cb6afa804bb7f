import type { MessagePropertyHeaders } from "amqplib";
import type { ImporterError } from "../errors.js";

/** One message from the work queue, as the pipeline sees it. */
export interface Delivery {
  body: Buffer;
  headers: MessagePropertyHeaders;
  /** 1 for the first try; the retry path counts it up in the `x-attempt` header. */
  attempt: number;
  messageId?: string;
  redelivered: boolean;
}

/**
 * What to do with a delivery, decided by the pipeline (src/pipeline/decide.ts) and carried out by the consumer:
 * `ack` when the outcome is committed, `retry` through the next retry queue, `dead-letter` for good, `requeue`
 * back to the work queue without spending an attempt (the process is stopping, or the database went away: neither
 * says anything about the import).
 */
export type Outcome =
  | { action: "ack" }
  | { action: "requeue"; reason: string; composeId?: string }
  | { action: "retry"; error: ImporterError; composeId?: string }
  | { action: "dead-letter"; error: ImporterError; composeId?: string };

/** What the consumer tells a handler while it runs. */
export interface DeliveryControl {
  /** The process is stopping: finish the current step, then give the delivery back (`requeue`). */
  stopping: AbortSignal;
  /** SHUTDOWN_TIMEOUT is over: abandon the calls in flight. */
  abort: AbortSignal;
}

export type DeliveryHandler = (delivery: Delivery, control: DeliveryControl) => Promise<Outcome>;

export const ATTEMPT_HEADER = "x-attempt";
/** How many times `dlq replay` has moved this message back to the work queue. */
export const REPLAYED_HEADER = "x-replayed";
/** Set on the event an operator's `retry` puts back on the work queue. */
export const OPERATOR_RETRY_HEADER = "x-operator-retry";

/** Set by the quorum work queue on a redelivery: how many of its deliveries of this message were never settled. */
export const DELIVERY_COUNT_HEADER = "x-delivery-count";

/**
 * Which try this delivery is: the retries counted in `x-attempt`, plus the deliveries of this copy whose worker
 * died or lost its connection before settling them. Without the second, a message that kills its worker would
 * be redelivered forever, never reaching the attempt limit.
 */
export function attemptOf(headers: MessagePropertyHeaders | undefined): number {
  const value = Number(headers?.[ATTEMPT_HEADER]);
  const counted = Number.isInteger(value) && value >= 1 ? value : 1;
  const unsettled = Number(headers?.[DELIVERY_COUNT_HEADER]);
  return counted + (Number.isInteger(unsettled) && unsettled > 0 ? unsettled : 0);
}

/**
 * An error message as a header value. AMQP limits a message's headers (amqplib refuses a frame over 64 KiB), and a
 * publish refused for its size would be refused again on every redelivery; the whole text is in the store.
 */
const MAX_HEADER_TEXT = 4096;
function headerText(text: string): string {
  return text.length <= MAX_HEADER_TEXT
    ? text
    : `${text.slice(0, MAX_HEADER_TEXT)}… (${text.length} characters)`;
}

/** A delivery's headers for a copy published anew: the broker's delivery count is already in the attempt. */
export function withoutDeliveryCount(headers: MessagePropertyHeaders): MessagePropertyHeaders {
  const { [DELIVERY_COUNT_HEADER]: _counted, ...rest } = headers;
  return rest;
}

export function replaysOf(headers: MessagePropertyHeaders | undefined): number {
  const value = Number(headers?.[REPLAYED_HEADER]);
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/** The headers a dead-lettered message carries, so an SRE (and `dlq list`) sees why without reading logs. */
export function deadLetterHeaders(
  original: MessagePropertyHeaders,
  attempt: number,
  error: ImporterError,
  composeId: string | undefined,
  routingKey: string,
  now: Date,
): MessagePropertyHeaders {
  return {
    ...withoutDeliveryCount(original),
    "x-death-reason": headerText(error.message),
    "x-error-code": error.code,
    "x-error-class": error.errorClass,
    "x-attempts": attempt,
    ...(composeId ? { "x-compose-id": composeId } : {}),
    "x-first-death-at": original["x-first-death-at"] ?? now.toISOString(),
    "x-last-failure-at": now.toISOString(),
    "x-original-routing-key": routingKey,
  };
}

/** A copy put back on the work queue: the same attempt, so the next delivery is the same try again. */
export function requeueHeaders(original: MessagePropertyHeaders, attempt: number): MessagePropertyHeaders {
  return { ...withoutDeliveryCount(original), [ATTEMPT_HEADER]: attempt };
}

export function retryHeaders(
  original: MessagePropertyHeaders,
  attempt: number,
  error: ImporterError,
): MessagePropertyHeaders {
  return {
    ...withoutDeliveryCount(original),
    [ATTEMPT_HEADER]: attempt + 1,
    "x-last-error": headerText(error.message),
    "x-last-error-code": error.code,
  };
}
