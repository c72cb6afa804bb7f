/**
 * The import state machine, the one table that the migrations' CHECK constraint, the store's guards and the admin
 * API all read (a test keeps the SQL constraint equal to this list).
 *
 *   received → fetched → assembled → reserved → uploaded → imported
 *   any non-final state → failed | refunded;  received → ignored (a compose without Koji)
 */
export const IMPORT_STATES = [
  "received",
  "fetched",
  "assembled",
  "reserved",
  "uploaded",
  "imported",
  "failed",
  "refunded",
  "ignored",
] as const;

export type ImportState = (typeof IMPORT_STATES)[number];

export const FINAL_STATES: ReadonlySet<ImportState> = new Set(["imported", "failed", "refunded", "ignored"]);

/** States an SRE may put back to work with `retry`. */
export const RETRYABLE_BY_OPERATOR: ReadonlySet<ImportState> = new Set(["failed", "refunded"]);
