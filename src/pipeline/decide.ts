import { ImporterError, UNEXPECTED } from "../errors.js";

/** What the pipeline needs from the configuration to decide retry or dead letter. */
export interface RetryPolicy {
  /** MAX_ATTEMPTS: attempts before a retryable failure is dead-lettered anyway. */
  maxAttempts: number;
  /** RETRY_DELAYS: the wait after attempt n is the n-th delay, the last repeating (as the retry queues do). */
  retryDelaysMs: readonly number[];
  /** UNEXPECTED_RETRY_WINDOW: how long, in retry delays, an error the importer does not know is retried. */
  unexpectedRetryMs: number;
}

/** How long a message has waited in the retry queues once the retry after `attempt` is done. */
export function retryDelaySum(attempt: number, delaysMs: readonly number[]): number {
  let sum = 0;
  for (let n = 1; n <= attempt; n++) sum += delaysMs[Math.min(n, delaysMs.length) - 1] ?? 0;
  return sum;
}

/**
 * The one place that decides whether a failed attempt is tried again: a retryable error is retried until the
 * message has used `maxAttempts` attempts; a permanent error, or a retryable one past the limit, gives up
 * (dead letter, reservation refunded). An error nobody classified (UNEXPECTED: a bug, or a library failing in
 * a way the importer does not know) may be transient, but one that repeats will repeat for hours along the
 * whole ladder; so it is retried only while the delays so far, with the next, stay within the short window,
 * and then dead-lettered with its message, where a person sees it.
 */
export function shouldRetry(error: ImporterError, attempt: number, policy: RetryPolicy): boolean {
  if (!error.retryable || attempt >= policy.maxAttempts) return false;
  if (error.code === UNEXPECTED)
    return retryDelaySum(attempt, policy.retryDelaysMs) <= policy.unexpectedRetryMs;
  return true;
}

/**
 * A retryable failure that is given up on says so, so `last_error` and the dead letter do not read like an import
 * still waiting: "gave up after N attempts: <the last reason>". A permanent failure is its own reason.
 */
export function gaveUp(error: ImporterError, attempt: number): ImporterError {
  if (!error.retryable) return error;
  return new ImporterError(
    error.errorClass,
    error.code,
    `gave up after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${error.message}`,
    { details: error.details, cause: error },
  );
}
