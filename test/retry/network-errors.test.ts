import { errors as undiciErrors } from "undici";
import { describe, expect, it } from "vitest";
import { classifyNetworkError, isOutageCode } from "../../src/retry/network-errors.js";

/** An error as node's net and tls modules make them: a message and a `code`. */
function systemError(code: string, message = `${code.toLowerCase()} happened`): Error {
  return Object.assign(new Error(message), { code });
}

describe("classifyNetworkError: socket codes", () => {
  it.each([
    ["ECONNREFUSED", "unreachable", false],
    ["ENOTFOUND", "unreachable", false],
    ["EAI_AGAIN", "unreachable", false],
    ["EHOSTUNREACH", "unreachable", false],
    ["ENETUNREACH", "unreachable", false],
    ["UND_ERR_CONNECT_TIMEOUT", "timeout", false],
    ["ETIMEDOUT", "timeout", true],
    ["UND_ERR_HEADERS_TIMEOUT", "timeout", true],
    ["UND_ERR_BODY_TIMEOUT", "timeout", true],
    ["ECONNRESET", "connection", true],
    ["EPIPE", "connection", true],
    ["UND_ERR_SOCKET", "connection", true],
    ["UND_ERR_CLOSED", "connection", true],
  ] as const)("%s: %s, retryable, sent %s", (code, kind, sent) => {
    const failure = classifyNetworkError(systemError(code));
    expect(failure).toMatchObject({ kind, code, retryable: true, sent });
    expect(isOutageCode(code)).toBe(true);
  });
});

describe("classifyNetworkError: certificates and TLS", () => {
  it.each([
    ["CERT_HAS_EXPIRED", "certificate-validity", true],
    ["CERT_NOT_YET_VALID", "certificate-validity", true],
    // The server's alert that our client certificate expired: the same fix, by an operator.
    ["ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED", "certificate-validity", true],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "certificate-trust", false],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "certificate-trust", false],
    ["SELF_SIGNED_CERT_IN_CHAIN", "certificate-trust", false],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "certificate-trust", false],
    ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "certificate-trust", false],
    ["CERT_REVOKED", "certificate-trust", false],
    ["CERT_SIGNATURE_FAILURE", "certificate-trust", false],
    // The server's alerts refusing our client certificate.
    ["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "certificate-trust", false],
    ["ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", "certificate-trust", false],
    ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "certificate-trust", false],
    // TLS spoken to a plain-HTTP port, no protocol or cipher in common.
    ["ERR_SSL_WRONG_VERSION_NUMBER", "tls", false],
    ["ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE", "tls", false],
  ] as const)("%s: %s, retryable %s, not sent", (code, kind, retryable) => {
    const failure = classifyNetworkError(systemError(code));
    expect(failure).toMatchObject({ kind, code, retryable, sent: false });
    expect(isOutageCode(code)).toBe(false);
  });

  it("a handshake timeout is a timeout: retryable, not sent", () => {
    expect(classifyNetworkError(systemError("ERR_TLS_HANDSHAKE_TIMEOUT"))).toMatchObject({
      kind: "timeout",
      retryable: true,
      sent: false,
    });
  });
});

describe("classifyNetworkError: the cause chain", () => {
  it("looks through undici's SocketError to the socket's own code", () => {
    const error = new undiciErrors.SocketError("other side closed");
    (error as Error).cause = systemError("ECONNRESET", "read ECONNRESET");
    expect(classifyNetworkError(error)).toMatchObject({
      kind: "connection",
      code: "ECONNRESET",
      reason: "read ECONNRESET",
    });
  });

  it("keeps undici's SocketError code when nothing is under it", () => {
    expect(classifyNetworkError(new undiciErrors.SocketError("other side closed"))).toMatchObject({
      kind: "connection",
      code: "UND_ERR_SOCKET",
      reason: "other side closed",
    });
  });

  it("reads undici's own timeout and abort errors", () => {
    expect(classifyNetworkError(new undiciErrors.ConnectTimeoutError())).toMatchObject({
      kind: "timeout",
      sent: false,
    });
    expect(classifyNetworkError(new undiciErrors.HeadersTimeoutError())).toMatchObject({
      kind: "timeout",
      sent: true,
    });
    expect(classifyNetworkError(new undiciErrors.RequestAbortedError())).toMatchObject({
      kind: "aborted",
      retryable: true,
    });
  });

  it("looks through fetch's 'fetch failed' TypeError, and a TLS proxy's wrapper, to the cause", () => {
    const fetchFailed = new TypeError("fetch failed", { cause: systemError("ENOTFOUND") });
    expect(classifyNetworkError(fetchFailed)).toMatchObject({ kind: "unreachable", code: "ENOTFOUND" });
    const proxy = new undiciErrors.SecureProxyConnectionError(systemError("CERT_HAS_EXPIRED"));
    expect(classifyNetworkError(proxy)).toMatchObject({
      kind: "certificate-validity",
      code: "CERT_HAS_EXPIRED",
    });
  });

  it("reads an AggregateError (a name with several addresses, each refused) by the errors it holds", () => {
    const aggregate = new AggregateError([
      systemError("ECONNREFUSED", "connect ECONNREFUSED ::1:5432"),
      systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"),
    ]);
    expect(aggregate.message).toBe("");
    expect(classifyNetworkError(aggregate)).toMatchObject({
      kind: "unreachable",
      code: "ECONNREFUSED",
      retryable: true,
      sent: false,
      reason: "connect ECONNREFUSED ::1:5432",
    });
    // Wrapped once more, as undici or a caller may.
    expect(classifyNetworkError(new Error("connect failed", { cause: aggregate }))).toMatchObject({
      kind: "unreachable",
      code: "ECONNREFUSED",
    });
  });

  it("reads an AbortError by its name", () => {
    const abort = new DOMException("This operation was aborted", "AbortError");
    expect(classifyNetworkError(abort)).toMatchObject({ kind: "aborted", retryable: true });
  });

  it("calls what it does not know unknown and retryable (the caller's limits bound it), sent", () => {
    for (const error of [
      new Error("something"),
      "a string",
      undefined,
      systemError("HPE_INVALID_CONSTANT"),
    ]) {
      expect(classifyNetworkError(error)).toMatchObject({ kind: "unknown", retryable: true, sent: true });
    }
  });

  it("ends on a cause chain that loops", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(classifyNetworkError(a)).toMatchObject({ kind: "unknown", code: undefined });
  });
});
