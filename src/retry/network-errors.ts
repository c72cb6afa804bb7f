import { X509Certificate } from "node:crypto";
import type { ImporterError } from "../errors.js";
import type { Logger } from "../log.js";

/**
 * The one reading of a failure below HTTP (no status), for composer, the Koji hubs and PostgreSQL alike: what
 * happened, whether the same request can succeed later without anyone changing anything, and whether the request
 * can have reached the server. Each adapter turns it into its own coded ImporterError.
 */
export type NetworkFailureKind =
  /** No connection was made: refused, no such host (yet), no route. The request never left. */
  | "unreachable"
  /** Connect, TLS handshake, response-header or body-idle timeout. */
  | "timeout"
  /** The connection broke (reset, broken pipe, closed by the other side): the request may have arrived. */
  | "connection"
  /** Our caller's AbortSignal (shutdown, a lost lock): nothing about the server. */
  | "aborted"
  /** A certificate expired or not yet valid (ours, or the server's): retryable, and an operator's alert. */
  | "certificate-validity"
  /** The server's name is not in its certificate, or a certificate is from a CA the other side does not trust. */
  | "certificate-trust"
  /** Any other TLS or OpenSSL failure: protocol versions, ciphers, plain HTTP on a TLS port. */
  | "tls"
  /** No code we know: retried, as a passing fault, within the caller's limits. */
  | "unknown";

export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** The most specific code along the cause chain (a socket's or OpenSSL's, rather than undici's wrapper's). */
  code: string | undefined;
  /** Whether the same request may succeed later as it is. */
  retryable: boolean;
  /** False only when the server cannot have received the request (no connection, or no finished handshake). */
  sent: boolean;
  /** What the error carrying `code` says (an AggregateError's own message is empty). */
  reason: string;
}

/** No connection: the request cannot have left this process. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
]);

/** Timeouts before the connection was up: the request did not leave either. */
const CONNECT_TIMEOUT = new Set(["UND_ERR_CONNECT_TIMEOUT", "ERR_TLS_HANDSHAKE_TIMEOUT"]);

/** Timeouts on a connection that was up; ETIMEDOUT may also come from a socket that already sent. */
const TIMEOUT = new Set(["ETIMEDOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

const BROKEN = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

const ABORTED = new Set(["UND_ERR_ABORTED", "ABORT_ERR"]);

/**
 * OpenSSL's verify results for a certificate outside its validity period, and the alert a server sends when ours
 * is. Nothing is wrong with the configuration: someone must renew a certificate (or fix a clock), and then the
 * same request succeeds. So these are retryable, and logged for an alert (`logCertificateAlert`).
 */
const CERTIFICATE_VALIDITY = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED",
]);

/**
 * A name mismatch (ERR_TLS_CERT_ALTNAME_INVALID), a CA we were not given (UNABLE_TO_VERIFY_LEAF_SIGNATURE,
 * SELF_SIGNED_CERT_IN_CHAIN, DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_GET_ISSUER_CERT_LOCALLY, ...), OpenSSL's other
 * verify results (CERT_REVOKED, CERT_SIGNATURE_FAILURE, INVALID_CA, ...), and a server's alert refusing our
 * certificate. The same handshake fails the same way until the configuration changes: permanent.
 */
const CERTIFICATE_TRUST =
  /^(ERR_TLS_CERT_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|INVALID_CA$|INVALID_PURPOSE$|HOSTNAME_MISMATCH$|ERR_SSL_\w*ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_))/;

const TLS = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_)/;

/**
 * undici's wrapper codes: the error they wrap, when there is one, says what happened (a SocketError around
 * ECONNRESET, a SecureProxyConnectionError around the proxy's certificate failure).
 */
const WRAPPERS = new Set(["UND_ERR_SOCKET", "UND_ERR_PRX_TLS"]);

/** A server's alert refusing the handshake (unknown CA, bad or expired certificate, ...): about our certificate. */
const PEER_ALERT = /^ERR_SSL_\w*ALERT_/;

/** Bounds the walk: a cause chain is a few links long, and a cycle must not hang it. */
const MAX_ERRORS_VISITED = 32;

interface Found {
  code: string;
  message: string;
}

/**
 * The errors along `error`'s causes, depth first: undici puts the socket's error under `cause` (SocketError
 * UND_ERR_SOCKET around ECONNRESET; fetch's "fetch failed" TypeError around everything), and a connection to a
 * name with several addresses fails with an AggregateError holding each address's error in `errors`.
 */
function* chain(error: unknown): Generator<object> {
  const seen = new Set<object>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < MAX_ERRORS_VISITED) {
    const current = pending.shift();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    yield current;
    const { cause, errors } = current as { cause?: unknown; errors?: unknown };
    const next: unknown[] = [cause];
    if (Array.isArray(errors)) next.push(...errors);
    pending.unshift(...next);
  }
}

function mostSpecificCode(error: unknown): Found | undefined {
  let wrapper: Found | undefined;
  for (const link of chain(error)) {
    const { code, message, name } = link as { code?: unknown; message?: unknown; name?: unknown };
    const text = typeof message === "string" ? message : "";
    const found =
      typeof code === "string"
        ? { code, message: text }
        : name === "AbortError"
          ? { code: "ABORT_ERR", message: text }
          : undefined;
    if (!found) continue;
    if (!WRAPPERS.has(found.code)) return found;
    wrapper ??= found;
  }
  return wrapper;
}

function kindOf(code: string | undefined): NetworkFailureKind {
  if (code === undefined) return "unknown";
  if (UNREACHABLE.has(code)) return "unreachable";
  if (CONNECT_TIMEOUT.has(code) || TIMEOUT.has(code)) return "timeout";
  if (BROKEN.has(code)) return "connection";
  if (ABORTED.has(code)) return "aborted";
  if (CERTIFICATE_VALIDITY.has(code)) return "certificate-validity";
  if (CERTIFICATE_TRUST.test(code)) return "certificate-trust";
  if (TLS.test(code)) return "tls";
  return "unknown";
}

/** The client certificate a connection presents, as far as its validity period goes. */
export interface ClientCertificate {
  subject: string;
  validFrom: number;
  validTo: number;
}

/** The validity period of a PEM client certificate (the first one, when it holds a chain). */
export function readClientCertificate(pem: string | Buffer | undefined): ClientCertificate | undefined {
  if (pem === undefined) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    // Not a certificate node can read: the TLS handshake refuses it with a better message than ours would be.
    return undefined;
  }
  return { subject: cert.subject, validFrom: Date.parse(cert.validFrom), validTo: Date.parse(cert.validTo) };
}

export interface ClassifyContext {
  /**
   * The client certificate the connection presented. When it is outside its validity period, a connection the
   * server closed, or an alert it sent, is that certificate's fault: over TLS 1.3 a server checks it after the
   * client's side of the handshake is done, and its refusal arrives as a closed connection (Apache's does, and
   * Node's servers send no alert at all).
   */
  clientCertificate?: ClientCertificate | undefined;
  now?: number;
}

export function classifyNetworkError(error: unknown, context: ClassifyContext = {}): NetworkFailure {
  const found = mostSpecificCode(error);
  const code = found?.code;
  const kind = kindOf(code);
  const outer = error instanceof Error ? error.message : String(error);
  const reason = found?.message || outer || code || "error";
  const handshake = kind === "certificate-validity" || kind === "certificate-trust" || kind === "tls";
  const failure: NetworkFailure = {
    kind,
    code,
    retryable: kind !== "certificate-trust" && kind !== "tls",
    sent: !(kind === "unreachable" || handshake || (code !== undefined && CONNECT_TIMEOUT.has(code))),
    reason,
  };
  const refused = kind === "connection" || (code !== undefined && PEER_ALERT.test(code));
  return refused ? (ownCertificateFailure(failure, context) ?? failure) : failure;
}

/** The failure as our own certificate's, when that certificate is not valid now; undefined when it is. */
function ownCertificateFailure(
  failure: NetworkFailure,
  context: ClassifyContext,
): NetworkFailure | undefined {
  const own = context.clientCertificate;
  if (own === undefined) return undefined;
  const now = context.now ?? Date.now();
  const expired = now > own.validTo;
  if (!expired && now >= own.validFrom) return undefined;
  const when = new Date(expired ? own.validTo : own.validFrom).toISOString();
  return {
    kind: "certificate-validity",
    code: expired ? "CERT_HAS_EXPIRED" : "CERT_NOT_YET_VALID",
    retryable: true,
    // As the failure was read: a connection that broke after the request left may still have delivered it.
    sent: failure.sent,
    reason:
      `the client certificate (${own.subject.replaceAll("\n", ", ")}) ${expired ? "expired" : "is not valid before"} ` +
      `${when}; the server refused the connection (${failure.code ?? "error"}: ${failure.reason})`,
  };
}

/**
 * Whether a code alone (not a cause chain's) says the server is out of reach for now: unreachable, timed out or a
 * broken connection; not TLS, not an abort, not unknown.
 */
export function isOutageCode(code: string): boolean {
  const kind = kindOf(code);
  return kind === "unreachable" || kind === "timeout" || kind === "connection";
}

/** The `alert` field of the log line a certificate outside its validity period writes (alerts key on it). */
export const CERTIFICATE_VALIDITY_ALERT = "tls_certificate_validity";

/**
 * The error details that mark a failure an operator must act on while its events wait in the retry queues: the
 * `alert` key, and the origin whose certificate it is (the certificate is the host's, whatever the path). Adapters
 * put them on their ImporterError.
 */
export function certificateAlertDetails(failure: NetworkFailure, url: URL): Record<string, string> {
  if (failure.kind !== "certificate-validity") return {};
  return { alert: CERTIFICATE_VALIDITY_ALERT, url: url.origin };
}

/**
 * Whether a failure is worth sending again within the same attempt: it must be retryable, and not waiting for an
 * operator. A certificate outside its validity period fails the same way until someone renews it, so its event goes
 * back to the pipeline's retry queues at once (with the alert line) instead of resending. The one rule for composer
 * and the Koji hubs.
 */
export function worthResendingNow(error: ImporterError): boolean {
  return error.retryable && error.details.alert !== CERTIFICATE_VALIDITY_ALERT;
}

/**
 * Writes the alert line of an error that carries `certificateAlertDetails`: one per failed request, at error
 * level, with `alert`, `url` and the OpenSSL code, so an alert on the logs can key on `alert` alone. Says nothing
 * for any other error.
 */
export function logCertificateAlert(
  logger: Logger | undefined,
  error: ImporterError,
  fields: Record<string, unknown> = {},
): void {
  if (error.details.alert !== CERTIFICATE_VALIDITY_ALERT) return;
  logger?.error(
    {
      ...fields,
      alert: CERTIFICATE_VALIDITY_ALERT,
      url: error.details.url,
      code: error.code,
      cause_code: error.details.cause_code,
      reason: error.message,
    },
    "TLS certificate expired or not yet valid: renew it (or fix the clock); imports wait in the retry queues meanwhile",
  );
}
