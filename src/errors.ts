import type { ErrorCode, PermanentCode, RetryableCode } from "./error-codes.js";

/**
 * Every failure the importer can meet is an ImporterError carrying its class and a code of the registry
 * (src/error-codes.ts). The pipeline decides once, from `retryable`, whether a message is retried later or
 * dead-lettered; adapters never make that call.
 */
export type ErrorClass = "retryable" | "permanent";

export interface ImporterErrorOptions {
  /** Extra facts for logs and the admin API (field path, HTTP status, Koji fault code, ...). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ImporterError extends Error {
  override readonly name = "ImporterError";
  /** Stable, machine-matchable code such as `KOJI_FAULT` or `EVENT_INVALID`; tests match codes, not text. */
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(errorClass: ErrorClass, code: ErrorCode, message: string, options: ImporterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = errorClass === "retryable";
    this.details = options.details ?? {};
  }

  get errorClass(): ErrorClass {
    return this.retryable ? "retryable" : "permanent";
  }
}

export function permanentError(
  code: PermanentCode,
  message: string,
  options?: ImporterErrorOptions,
): ImporterError {
  return new ImporterError("permanent", code, message, options);
}

export function retryableError(
  code: RetryableCode,
  message: string,
  options?: ImporterErrorOptions,
): ImporterError {
  return new ImporterError("retryable", code, message, options);
}

/** The code of an error nobody classified; src/pipeline/decide.ts retries it only briefly. */
export const UNEXPECTED = "UNEXPECTED" satisfies ErrorCode;

/**
 * Anything thrown that is not an ImporterError is a bug or an unexpected runtime fault (a socket reset deep in a
 * library, say). Treating it as retryable keeps the message alive through a passing fault; the pipeline retries
 * it only within UNEXPECTED_RETRY_WINDOW (src/pipeline/decide.ts), then dead-letters it with its message.
 */
export function toImporterError(error: unknown): ImporterError {
  if (error instanceof ImporterError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return retryableError(UNEXPECTED, message, { cause: error });
}
