import type { ImporterError } from "../errors.js";

/**
 * The one place that decides whether a failed attempt is tried again: a retryable error is retried until the
 * message has used `maxAttempts` attempts; a permanent error, or a retryable one past the limit, gives up
 * (dead letter, reservation refunded).
 */
export function shouldRetry(error: ImporterError, attempt: number, maxAttempts: number): boolean {
  return error.retryable && attempt < maxAttempts;
}
