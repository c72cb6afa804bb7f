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

export const ALLOWED_TRANSITIONS: Readonly<Record<ImportState, readonly ImportState[]>> = {
  received: ["fetched", "failed", "refunded", "ignored"],
  fetched: ["assembled", "failed", "refunded"],
  assembled: ["reserved", "failed", "refunded"],
  reserved: ["uploaded", "imported", "failed", "refunded"],
  uploaded: ["imported", "reserved", "failed", "refunded"],
  imported: [],
  // An operator's retry starts a failed or refunded import over from the top.
  failed: ["received"],
  refunded: ["received"],
  ignored: [],
};

export function canTransition(from: ImportState, to: ImportState): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}
