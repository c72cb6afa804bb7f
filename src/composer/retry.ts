import { setTimeout as sleep } from "node:timers/promises";
import { ImporterError, toImporterError } from "../errors.js";
import type { Logger } from "../log.js";
import { backoffDelay, type RetryPolicy } from "./backoff.js";
import { abortedError, ComposerErrorCode, type RequestLabel } from "./errors.js";

/**
 * Retryable, but not worth retrying within the request: a pending compose needs minutes (the pipeline's delayed
 * retry does that), a TLS mismatch needs an operator, an abort means we are shutting down.
 */
const NOT_RETRIED_IN_PROCESS = new Set<string>([
  ComposerErrorCode.NotFinished,
  ComposerErrorCode.Tls,
  ComposerErrorCode.Aborted,
]);

export interface RetryContext {
  policy: RetryPolicy;
  label: RequestLabel;
  random: () => number;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the retries run out. A server's Retry-After
 * (details.retry_after_ms) replaces the computed backoff; one longer than the policy allows ends the loop so the
 * pipeline can wait it out instead.
 */
export async function withRetries<T>(attempt: () => Promise<T>, context: RetryContext): Promise<T> {
  const { policy, label } = context;
  for (let retry = 0; ; retry++) {
    let error: ImporterError;
    try {
      return await attempt();
    } catch (thrown) {
      error = toImporterError(thrown);
    }
    if (!error.retryable || NOT_RETRIED_IN_PROCESS.has(error.code)) throw error;
    const retryAfter = error.details.retry_after_ms;
    const wait = typeof retryAfter === "number" ? retryAfter : backoffDelay(retry, policy, context.random);
    if (retry >= policy.maxRetries || wait > policy.maxRetryAfterMs) throw exhausted(error, retry + 1);
    context.logger?.warn(
      {
        compose_id: label.composeId,
        endpoint: label.endpoint,
        code: error.code,
        attempt: retry + 1,
        delay_ms: wait,
        err: error.message,
      },
      "composer request failed; retrying",
    );
    try {
      await sleep(wait, undefined, context.signal ? { signal: context.signal } : undefined);
    } catch (abort) {
      throw abortedError(label, abort);
    }
  }
}

/** The last failure, with how many attempts it took, so a log line shows the retries happened. */
function exhausted(error: ImporterError, attempts: number): ImporterError {
  if (attempts === 1) return error;
  return new ImporterError(error.errorClass, error.code, `${error.message} (after ${attempts} attempts)`, {
    details: { ...error.details, attempts },
    cause: error.cause,
  });
}
