import type { ErrorCode } from "../error-codes.js";
import { type ImporterError, permanentError, retryableError } from "../errors.js";
import {
  type ClientCertificate,
  certificateAlertDetails,
  classifyNetworkError,
} from "../retry/network-errors.js";

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
  TlsCertificateValidity: "COMPOSER_TLS_CERT_VALIDITY",
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

/** Where a failed exchange went: the server's URL (for the alert) and the client certificate presented, if any. */
export interface ExchangeTarget {
  url: URL;
  clientCertificate?: ClientCertificate | undefined;
}

/**
 * A failure below HTTP (no status), read by the importer's one network-error classifier: timeouts and broken or
 * refused connections are retryable; a certificate outside its validity period, composer's or our own, is
 * retryable too and carries the alert details (an operator renews it while the events wait); a name or CA mismatch
 * and other TLS failures are permanent.
 */
export function transportError(label: RequestLabel, error: unknown, target?: ExchangeTarget): ImporterError {
  const failure = classifyNetworkError(error, { clientCertificate: target?.clientCertificate });
  const code = failure.code ?? "UNKNOWN";
  const details = {
    ...requestDetails(label),
    cause_code: code,
    ...(target === undefined ? {} : certificateAlertDetails(failure, target.url)),
  };
  const options = { details, cause: error };
  const what = describeRequest(label);
  switch (failure.kind) {
    case "timeout":
      return retryableError(ComposerErrorCode.Timeout, `${what}: ${failure.reason}`, options);
    case "certificate-validity":
      return retryableError(
        ComposerErrorCode.TlsCertificateValidity,
        `${what}: TLS certificate not valid now (${code}): ${failure.reason}`,
        options,
      );
    case "certificate-trust":
    case "tls":
      return permanentError(
        ComposerErrorCode.Tls,
        `${what}: TLS failure (${code}): ${failure.reason}`,
        options,
      );
    default:
      return retryableError(ComposerErrorCode.Unreachable, `${what}: ${failure.reason} (${code})`, options);
  }
}
