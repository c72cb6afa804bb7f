import { isErrorCode } from "../error-codes.js";
import { ImporterError } from "../errors.js";
import { type Delivery, OPERATOR_RETRY_HEADER, replaysOf } from "../queue/delivery.js";
import type { ImportProgress } from "../store/import-row.js";

/**
 * A person asking for a failed import to run again: a dead letter moved back by `dlq replay`, or the event an
 * operator's `retry` re-queued, on its first try since. Its later retries (attempt > 1) are ordinary
 * deliveries, so one request reopens a failed import once.
 */
export function asksToRunAgain(delivery: Delivery): boolean {
  const requested = replaysOf(delivery.headers) > 0 || delivery.headers[OPERATOR_RETRY_HEADER] === true;
  return requested && delivery.attempt === 1;
}

/**
 * The failure the store recorded for an import, as the error its dead letter carries. An event that arrives
 * for an import that already failed is dead-lettered again with it: the failure is committed before its
 * dead letter is published, and a worker that died in between must not leave the redelivery to be acked as
 * "already finished", which would leave nothing in the dead-letter queue for an SRE to see or replay. A code this
 * version does not know (recorded by an older one) travels as IMPORT_FAILED; the recorded message says what it was.
 */
export function recordedFailure(row: ImportProgress): ImporterError {
  return new ImporterError(
    row.last_error_class ?? "permanent",
    isErrorCode(row.last_error_code) ? row.last_error_code : "IMPORT_FAILED",
    row.last_error ?? `import ${row.compose_id} is ${row.state}; no reason was recorded`,
  );
}
