/**
 * The one backoff of every retry loop inside the process: composer requests, Koji calls and logins, the broker
 * reconnect and the result relay. (The pipeline's retries between attempts are another thing: the TTL retry queues
 * of RETRY_DELAYS, src/pipeline/decide.ts.)
 *
 * Full jitter: the wait before retry n (from 0) is uniformly random in [0, min(cap, base·2^n)]. Every replica and
 * every import in flight fails at once when composer, a hub or the broker goes away; fixed or half-fixed waits
 * bring them back in step, while random ones spread them over the whole window, and the window still doubles.
 */
export interface Backoff {
  /** The window of the first retry's wait. */
  baseDelayMs: number;
  /** No window grows beyond this, however many retries. */
  maxDelayMs: number;
}

/** A bounded loop: the backoff, and how many retries follow the first attempt (0: one attempt only). */
export interface RetryPolicy extends Backoff {
  maxRetries: number;
}

/** `Math.random`'s contract: a number in [0, 1). Tests pass a constant to make the waits known. */
export type Random = () => number;

/** The wait before retry `retry` (0 for the first retry), in whole milliseconds. */
export function backoffDelay(retry: number, backoff: Backoff, random: Random = Math.random): number {
  const cap = Math.max(0, backoff.maxDelayMs);
  // 2^n beyond 2^52 changes nothing against any cap, and keeps base · 2^n finite.
  const exponent = Math.min(Math.max(0, Math.floor(retry)), 52);
  const window = Math.min(cap, Math.max(0, backoff.baseDelayMs) * 2 ** exponent);
  const drawn = random();
  // A test's or a broken source's value outside [0, 1) must not make a negative or endless wait.
  const fraction = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1) : 0;
  return Math.round(fraction * window);
}
