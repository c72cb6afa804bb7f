import { setTimeout as sleep } from "node:timers/promises";
import { ImporterError, toImporterError } from "../errors.js";
import type { Logger } from "../log.js";
import { backoffDelay, type Random, type RetryPolicy } from "../retry/backoff.js";
import { logCertificateAlert, worthResendingNow } from "../retry/network-errors.js";
import { abortedError, ComposerErrorCode, type RequestLabel } from "./errors.js";

/** How hard the client tries before it hands a retryable failure back to the pipeline's own retry queues. */
export interface ComposerRetryPolicy extends RetryPolicy {
  /**
   * A Retry-After longer than this is not waited out here: the error goes back to the pipeline, whose delayed
   * retry queues are the right place for long waits (they survive a restart and free the worker meanwhile).
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: ComposerRetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
};

/**
 * Retryable, but not worth retrying within the request: a pending compose needs minutes (the pipeline's delayed
 * retry does that), an abort means we are shutting down. (A certificate outside its validity period is the
 * importer's one rule, `worthResendingNow`.)
 */
const NOT_RETRIED_IN_PROCESS = new Set<string>([ComposerErrorCode.NotFinished, ComposerErrorCode.Aborted]);

export interface RetryContext {
  policy: ComposerRetryPolicy;
  label: RequestLabel;
  random: Random;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the retries run out, waiting the importer's one backoff
 * (src/retry/backoff.ts) between tries. A server's Retry-After (details.retry_after_ms) replaces the computed
 * backoff; one longer than the policy allows ends the loop so the pipeline can wait it out instead.
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
    logCertificateAlert(context.logger, error, { compose_id: label.composeId, endpoint: label.endpoint });
    if (!worthResendingNow(error) || NOT_RETRIED_IN_PROCESS.has(error.code)) throw error;
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
