import { ImporterError, retryableError } from "../errors.js";
import { isOutageCode } from "../retry/network-errors.js";

/**
 * SQLSTATE classes that mean the server cannot serve us right now, not that a statement is wrong: 08 connection
 * exception, 53 insufficient resources (too many connections, disk full), 57P operator intervention (shutdown,
 * crash recovery, cannot connect now), and 3D000 (the database is not there, e.g. being restored).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)|^3D000$/;

/** What pg says, without a code, of a connection that died under a query or a client that cannot be used. */
const LOST_CONNECTION = /Connection terminated|not queryable|timeout exceeded when trying to connect/;

/**
 * The error as STORE_UNAVAILABLE (retryable) when it says PostgreSQL cannot be reached or is going away, so
 * retries, dead letters and `importer_retries_total` name the database outage instead of an unexpected error.
 * Undefined for anything else, and for an error an adapter has already classified: a Koji or composer error whose
 * message happens to read "Connection terminated" is that service's, not the database's.
 */
export function storeUnavailable(error: unknown): ImporterError | undefined {
  if (!(error instanceof Error) || error instanceof ImporterError) return undefined;
  const code = (error as { code?: unknown }).code;
  // Socket errors come from node before PostgreSQL says anything, read by the importer's one classifier. The
  // error's own code only: pg raises them as they are, and a socket error further down a cause chain is whoever
  // wrapped it's (this runs on every error a delivery meets).
  const matches =
    (typeof code === "string" && (UNAVAILABLE_SQLSTATE.test(code) || isOutageCode(code))) ||
    LOST_CONNECTION.test(error.message);
  if (!matches) return undefined;
  // A refused connection to a name with several addresses is an AggregateError with an empty message.
  return retryableError("STORE_UNAVAILABLE", `PostgreSQL unavailable: ${error.message || String(code)}`, {
    cause: error,
    ...(typeof code === "string" ? { details: { code } } : {}),
  });
}
