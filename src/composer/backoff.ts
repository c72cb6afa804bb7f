/** How hard the client tries before it hands a retryable failure back to the pipeline's own retry queues. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 means one attempt only. */
  maxRetries: number;
  /** The first retry waits about this long; each further one doubles it. */
  baseDelayMs: number;
  /** No wait grows beyond this, so a burst of failures cannot stall an import for minutes in-process. */
  maxDelayMs: number;
  /**
   * A Retry-After longer than this is not waited out here: the error goes back to the pipeline, whose delayed
   * retry queues are the right place for long waits (they survive a restart and free the worker meanwhile).
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
};

/**
 * Exponential backoff with "equal jitter": half the window fixed, half random. Fully random waits can be near
 * zero and hammer a composer that is restarting; fixed waits make every worker retry in lock-step.
 * `retry` counts from 0 (the wait before the first retry).
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(window / 2 + random() * (window / 2));
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
