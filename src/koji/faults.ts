import { ImporterError } from "../errors.js";

/**
 * Koji faults as typed errors. The numbers are Koji's own (`koji/__init__.py`); the hub sends any Python exception
 * that is not one of its own classes as fault 1 with text like `<class 'KeyError'>: 'source'`.
 *
 * Whether a retry can help is decided here, once, from what the hub's code does when it raises each fault:
 * - LockError: another request holds the file or row (an earlier chunk still being written after we gave up on it,
 *   a concurrent checkUpload). The holder finishes; the same request later succeeds.
 * - ServerOffline: the hub is in maintenance mode and says so; it comes back.
 * - AuthLockError: another session of our user went exclusive; that session ends.
 * - RetryError: the hub saw this callnum commit already, so the earlier call took effect. Our client never reuses
 *   a callnum, so this means someone else drives our session; the client resends a read with a fresh callnum and
 *   turns it into KOJI_COMMIT_UNCERTAIN for a committing call: the import may be retried, but only after it looks
 *   at the hub's state (getBuild) instead of repeating the call.
 * - SequenceError: a newer callnum committed first (concurrent requests on one session). The hub refused before
 *   doing anything, so the client re-sends with a fresh callnum; if that keeps failing it is still retryable.
 * - AuthExpired: the session outlived the hub's renewal timeout. The client logs in again and repeats; should it
 *   still surface, a later attempt logs in afresh.
 * - GenericError, AuthError, ActionNotAllowed, ParameterError, ...: the hub looked at the request and refused it.
 *   The same request gets the same answer, so retrying only delays the dead letter.
 * - Fault 1: a Python exception inside the hub. Mostly our metadata (a missing key) and so permanent, except the
 *   database and network exceptions below, which are the hub's own trouble and pass.
 */

export const KOJI_FAULT_NAMES: Readonly<Record<number, string>> = {
  1: "PythonException",
  1000: "GenericError",
  1001: "LockError",
  1002: "AuthError",
  1003: "TagError",
  1004: "ActionNotAllowed",
  1005: "BuildError",
  1006: "AuthLockError",
  1007: "AuthExpired",
  1008: "SequenceError",
  1009: "RetryError",
  1010: "PreBuildError",
  1011: "PostBuildError",
  1012: "BuildrootError",
  1013: "FunctionDeprecated",
  1014: "ServerOffline",
  1015: "LiveCDError",
  1016: "PluginError",
  1017: "CallbackError",
  1018: "ApplianceError",
  1019: "ParameterError",
  1020: "ImportError",
  1021: "ConfigurationError",
  1022: "LiveMediaError",
  1023: "GSSAPIAuthError",
  1024: "NameValidationError",
};

export const KojiFaultCode = {
  PythonException: 1,
  GenericError: 1000,
  LockError: 1001,
  AuthError: 1002,
  ActionNotAllowed: 1004,
  AuthLockError: 1006,
  AuthExpired: 1007,
  SequenceError: 1008,
  RetryError: 1009,
  ServerOffline: 1014,
  ParameterError: 1019,
} as const;

const RETRYABLE_FAULTS: ReadonlySet<number> = new Set([
  KojiFaultCode.LockError,
  KojiFaultCode.AuthLockError,
  KojiFaultCode.AuthExpired,
  KojiFaultCode.SequenceError,
  KojiFaultCode.RetryError,
  KojiFaultCode.ServerOffline,
]);

/**
 * Python exceptions (fault 1) that come from the hub's database or network rather than from what we sent: a lost
 * database connection, a serialization failure or deadlock between two transactions, the database shutting down,
 * restarting or cancelling a statement on timeout (psycopg2 names its error classes after PostgreSQL's
 * conditions: 57P01 AdminShutdown, 57P02 CrashShutdown, 57P03 CannotConnectNow, 57014 QueryCanceled, 55P03
 * LockNotAvailable), a timeout talking to storage.
 */
const TRANSIENT_PYTHON_EXCEPTION =
  /^<class '[\w.]*(OperationalError|InterfaceError|SerializationFailure|DeadlockDetected|AdminShutdown|CrashShutdown|CannotConnectNow|QueryCanceled|LockNotAvailable|ConnectionError|TimeoutError|BrokenPipeError)'>/;

export function kojiFaultName(faultCode: number): string {
  return KOJI_FAULT_NAMES[faultCode] ?? `Fault${faultCode}`;
}

export function isRetryableFault(faultCode: number, faultString: string): boolean {
  if (RETRYABLE_FAULTS.has(faultCode)) return true;
  if (faultCode === KojiFaultCode.PythonException) return TRANSIENT_PYTHON_EXCEPTION.test(faultString);
  return false;
}

/** A fault the hub answered with. Tests and callers match `faultCode` (or `faultName`), never the message. */
export class KojiFault extends ImporterError {
  readonly faultCode: number;
  readonly faultName: string;
  readonly faultString: string;

  constructor(faultCode: number, faultString: string, method: string) {
    const faultName = kojiFaultName(faultCode);
    super(
      isRetryableFault(faultCode, faultString) ? "retryable" : "permanent",
      "KOJI_FAULT",
      `Koji ${method}: ${faultName} (${faultCode}): ${faultString}`,
      { details: { faultCode, faultName, faultString, method } },
    );
    this.faultCode = faultCode;
    this.faultName = faultName;
    this.faultString = faultString;
  }
}

export function isKojiFault(error: unknown, faultCode?: number): error is KojiFault {
  return error instanceof KojiFault && (faultCode === undefined || error.faultCode === faultCode);
}
