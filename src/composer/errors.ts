import type { ErrorCode } from "../error-codes.js";
import { type ImporterError, permanentError, retryableError } from "../errors.js";

/**
 * The composer client's failure codes by name; what each means and its class are in the registry
 * (src/error-codes.ts). The class travels on the error; the code says which kind of trouble it was.
 */
export const ComposerErrorCode = {
  Http: "COMPOSER_HTTP",
  Auth: "COMPOSER_AUTH",
  InvalidResponse: "COMPOSER_INVALID_RESPONSE",
  NotFinished: "COMPOSER_NOT_FINISHED",
  Unreachable: "COMPOSER_UNREACHABLE",
  Timeout: "COMPOSER_TIMEOUT",
  Tls: "COMPOSER_TLS",
  Aborted: "COMPOSER_ABORTED",
} as const satisfies Record<string, ErrorCode>;

export type ComposerErrorCode = (typeof ComposerErrorCode)[keyof typeof ComposerErrorCode];

/** What an error message says about the request: `GET /composes/{id}/logs for compose <id>`. */
export interface RequestLabel {
  method: string;
  /** The spec's path template, never the expanded path: it keeps metrics and log searches low-cardinality. */
  endpoint: string;
  composeId?: string;
}

export function describeRequest(label: RequestLabel): string {
  const base = `composer ${label.method} ${label.endpoint}`;
  return label.composeId === undefined ? base : `${base} for compose ${label.composeId}`;
}

export function requestDetails(label: RequestLabel): Record<string, unknown> {
  return label.composeId === undefined
    ? { endpoint: label.endpoint }
    : { endpoint: label.endpoint, compose_id: label.composeId };
}

/** 429 and 5xx may clear by themselves; any other status will come back the same however often we ask. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export function httpStatusError(
  label: RequestLabel,
  status: number,
  reason: string | undefined,
  extra: Record<string, unknown> = {},
): ImporterError {
  const message = `${describeRequest(label)}: HTTP ${status}${reason ? ` (${reason})` : ""}`;
  const options = { details: { ...requestDetails(label), status, ...extra } };
  return isRetryableStatus(status)
    ? retryableError(ComposerErrorCode.Http, message, options)
    : permanentError(ComposerErrorCode.Http, message, options);
}

export function invalidResponseError(
  label: RequestLabel,
  problem: string,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): ImporterError {
  return permanentError(ComposerErrorCode.InvalidResponse, `${describeRequest(label)}: ${problem}`, {
    details: { ...requestDetails(label), ...extra },
    cause,
  });
}

export function authError(label: RequestLabel, problem: string, extra: Record<string, unknown> = {}) {
  return permanentError(ComposerErrorCode.Auth, `${describeRequest(label)}: ${problem}`, {
    details: { ...requestDetails(label), ...extra },
  });
}

export function notFinishedError(composeId: string, endpoint: string): ImporterError {
  return retryableError(ComposerErrorCode.NotFinished, `compose ${composeId} is still pending in composer`, {
    details: { endpoint, compose_id: composeId, status: "pending" },
  });
}

export function abortedError(label: RequestLabel, cause: unknown): ImporterError {
  return retryableError(ComposerErrorCode.Aborted, `${describeRequest(label)}: aborted`, {
    details: requestDetails(label),
    cause,
  });
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** OpenSSL's and Node's names for a handshake that can not succeed until someone changes a certificate. */
function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.includes("CERT") ||
    code.includes("SELF_SIGNED") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
  );
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // undici wraps some socket failures; the real code sits on the cause.
  return errorCode((error as { cause?: unknown }).cause);
}

/**
 * A failure below HTTP (no status): timeouts and broken connections are retryable; so are TLS failures, which
 * need an operator but do not make the import itself wrong, and are coded apart so an alert can tell them apart.
 */
export function transportError(label: RequestLabel, error: unknown): ImporterError {
  const code = errorCode(error) ?? "UNKNOWN";
  const reason = error instanceof Error ? error.message : String(error);
  const details = { ...requestDetails(label), cause_code: code };
  if (TIMEOUT_CODES.has(code)) {
    return retryableError(ComposerErrorCode.Timeout, `${describeRequest(label)}: ${reason}`, {
      details,
      cause: error,
    });
  }
  if (isTlsCode(code)) {
    return retryableError(ComposerErrorCode.Tls, `${describeRequest(label)}: TLS failure: ${reason}`, {
      details,
      cause: error,
    });
  }
  return retryableError(ComposerErrorCode.Unreachable, `${describeRequest(label)}: ${reason} (${code})`, {
    details,
    cause: error,
  });
}
