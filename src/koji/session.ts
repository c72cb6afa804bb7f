import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { ImporterError, permanentError, retryableError } from "../errors.js";
import { backoffDelay, type Random, type RetryPolicy } from "../retry/backoff.js";
import { logCertificateAlert, worthResendingNow } from "../retry/network-errors.js";
import { parseInput } from "../validation.js";
import type { KojiAuthenticator } from "./auth.js";
import { KojiFault, KojiFaultCode } from "./faults.js";
import { type LoginReply, LoginReplySchema } from "./schemas.js";
import { SessionPool } from "./session-pool.js";
import { DEFAULT_HUB_CONNECTIONS, type HubReply, type KojiTransport } from "./transport.js";
import { decodeResponse, encodeCall, type XmlRpcDecoded, type XmlRpcValue } from "./xmlrpc/index.js";

/**
 * The importer's calls to one hub, shared by every import that talks to that hub. Each request goes out on a hub
 * session of its own (see SessionPool): Koji's sessions carry one call at a time.
 *
 * Koji numbers the calls of a session (callnum, from 0, one more per request) and remembers the number of the last
 * call that committed. The hub checks every request's number, header and query-argument sessions alike, read-only
 * calls included (measured on 1.35.3): the committed number again is RetryError (1009), because the hub cannot
 * tell a resend from a replay; a lower one is SequenceError (1008). So this session never reuses a number: every
 * request, resends included, takes the next one. What it must not do is resend a call that may already have
 * committed (the connection broke after the request left, or a proxy answered 5xx while the hub kept working):
 * for those it raises KOJI_COMMIT_UNCERTAIN and lets the caller look at the hub's state first. A RetryError
 * answer means just that (some call with this number committed), so a committing call gets the same error; a
 * read-only one was refused before it ran and goes out again with a fresh number.
 */

export interface KojiSessionOptions {
  /** The hub's XML-RPC endpoint, e.g. `https://koji.example.org/kojihub`. */
  hubUrl: string;
  transport: KojiTransport;
  authenticator: KojiAuthenticator;
  logger?: Logger | undefined;
  /**
   * Resends of a call that cannot have committed (and logins), after a transport failure or a 5xx, with the
   * importer's one backoff between them (src/retry/backoff.ts). Longer outages are the pipeline's retry queues'.
   */
  retry?: Partial<RetryPolicy>;
  /** Jitter source of the backoff; tests pass a constant. */
  random?: Random;
  /** Hub sessions logged in at most, one per request in flight: the transport's connection count is the match. */
  maxSessions?: number;
}

export interface CallOptions {
  /** The call changes hub state (CGInitBuild, CGImport, CGRefundBuild, cancelBuild): never resend it blindly. */
  commits?: boolean;
  /** Overrides the session's `retry.maxRetries` (a caller that retries on its own passes 0). */
  retries?: number;
  /** How long the hub may take to answer (CGImport reads every output before it does); the transport's otherwise. */
  timeoutMs?: number;
  /** Abandons the call, a wait between resends included (shutdown, or the import lost its lock). */
  signal?: AbortSignal | undefined;
}

interface ActiveSession {
  id: number;
  key: string;
  headerAuth: boolean;
  callnum: number;
}

interface ResendAttempt {
  method: string;
  /** Resends so far (0 after the first failure). */
  retry: number;
  maxRetries: number;
  signal: AbortSignal | undefined;
  /** The log line's message when the request is sent again. */
  message: string;
  /** Thrown in place of the error, without a resend. */
  instead?: ImporterError | undefined;
}

/** A SequenceError or RetryError is refused before the method runs, so resending with a fresh callnum is safe. */
const MAX_SEQUENCE_RESENDS = 3;

const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 10_000 };

export class KojiSession {
  readonly hubUrl: URL;
  private readonly loginUrl: URL;
  private readonly sessions: SessionPool<ActiveSession>;
  private readonly maxSessions: number;
  private readonly retry: RetryPolicy;
  private version: string | undefined;
  private logins = 0;
  /** Set once the hub refused a TLS 1.3 login for want of post-handshake authentication (see postLogin). */
  private loginOverTls12 = false;

  constructor(private readonly options: KojiSessionOptions) {
    this.hubUrl = new URL(options.hubUrl);
    this.loginUrl = new URL(`${this.hubUrl.href.replace(/\/+$/, "")}/ssllogin`);
    this.maxSessions = options.maxSessions ?? DEFAULT_HUB_CONNECTIONS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sessions = new SessionPool(this.maxSessions, () => this.performLogin());
  }

  /** The hub's `Koji-Version` header, once any reply has been seen. */
  get kojiVersion(): string | undefined {
    return this.version;
  }

  get loggedIn(): boolean {
    return this.sessions.size > 0;
  }

  /** How many hub sessions are logged in now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** How many times this has logged in (more sessions for concurrent calls, re-logins after AuthExpired). */
  get loginCount(): number {
    return this.logins;
  }

  /** Logs in now if not yet logged in (the first call does this anyway). */
  async login(): Promise<void> {
    this.sessions.giveBack(await this.sessions.lease());
  }

  async call(
    method: string,
    params: readonly XmlRpcValue[] = [],
    options: CallOptions = {},
  ): Promise<XmlRpcDecoded> {
    const body = encodeCall(method, params);
    return this.send(method, body, { "Content-Type": "text/xml" }, {}, options);
  }

  /** Ends the sessions on the hub. A failure here only costs the hub a stale session row, so it is logged. */
  async logout(): Promise<void> {
    await Promise.all(
      this.sessions.drain().map(async (active) => {
        try {
          await this.post(encodeCall("logout"), { "Content-Type": "text/xml" }, {}, active, active.callnum++);
        } catch (e) {
          this.options.logger?.warn({ err: e, hub: this.hubUrl.origin }, "Koji logout failed");
        }
      }),
    );
  }

  /** Sends one request under a leased session: callnums, re-logins and resends are handled here. */
  protected async send(
    method: string,
    body: string | Uint8Array,
    headers: Record<string, string>,
    query: Record<string, string>,
    options: CallOptions,
  ): Promise<XmlRpcDecoded> {
    const maxRetries = options.retries ?? this.retry.maxRetries;
    let retries = 0;
    let sequenceResends = 0;
    let renewals = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      let active: ActiveSession;
      try {
        active = await this.sessions.lease();
      } catch (e) {
        // Logging in is a call like any other: a hub briefly out of reach gets the same resends.
        await this.waitToResend(asTransportError(e), {
          method,
          retry: retries++,
          maxRetries,
          signal: options.signal,
          message: "Koji login failed; trying again",
        });
        continue;
      }
      const fresh = active.callnum === 0;
      const callnum = active.callnum++;
      let reply: HubReply;
      try {
        // The session is free again once the hub has answered (or not): a resend's wait holds none.
        reply = await this.post(body, headers, query, active, callnum, options).finally(() =>
          this.sessions.giveBack(active),
        );
      } catch (e) {
        const error = asTransportError(e);
        await this.waitToResend(error, {
          method,
          retry: retries++,
          maxRetries,
          signal: options.signal,
          message: "Koji call failed; resending",
          // A call that may have committed is never resent: the caller checks the hub's state first.
          instead:
            options.commits && mayHaveCommitted(error) ? commitUncertain(method, callnum, error) : undefined,
        });
        continue;
      }
      let decoded: ReturnType<typeof decodeResponse>;
      try {
        decoded = decodeResponse(reply.body);
      } catch (e) {
        if (options.commits) throw commitUncertain(method, callnum, e as ImporterError);
        throw e;
      }
      if (decoded.kind === "result") return decoded.value;

      const fault = new KojiFault(decoded.faultCode, decoded.faultString, method);
      if (needsNewSession(fault) && renewals <= this.maxSessions && (renewals === 0 || !fresh)) {
        // The hub refused the session before running the method, so repeating the call is safe even if it commits.
        // Sessions logged in together expire together, so the next idle one may be dead too: a call goes on
        // through the pool's sessions to a fresh login, and gives up only when a fresh one is refused again.
        renewals++;
        this.sessions.discard(active);
        this.options.logger?.info(
          { method, fault: fault.faultName },
          "Koji session no longer valid; logging in",
        );
        continue;
      }
      // The number this call carried has committed before: if this call commits, that may have been it.
      if (fault.faultCode === KojiFaultCode.RetryError && options.commits)
        throw commitUncertain(method, callnum, fault);
      const outOfSequence =
        fault.faultCode === KojiFaultCode.SequenceError || fault.faultCode === KojiFaultCode.RetryError;
      if (outOfSequence && sequenceResends < MAX_SEQUENCE_RESENDS) {
        sequenceResends++;
        continue;
      }
      throw fault;
    }
  }

  /**
   * What follows a request that got no answer, a login's or a call's: the certificate alert line if the error
   * carries one, then the error (or `instead`) when it is not worth sending again, else the backoff's wait.
   */
  private async waitToResend(error: ImporterError, attempt: ResendAttempt): Promise<void> {
    const { method, retry } = attempt;
    logCertificateAlert(this.options.logger, error, { hub: this.hubUrl.href, method });
    if (attempt.instead) throw attempt.instead;
    if (!worthResendingNow(error) || retry >= attempt.maxRetries) throw error;
    const delayMs = backoffDelay(retry, this.retry, this.options.random);
    this.options.logger?.info({ err: error, method, retry: retry + 1, delay_ms: delayMs }, attempt.message);
    await sleep(delayMs, undefined, abortable(attempt.signal));
  }

  /** One request; the session goes in headers when the hub asked for header auth, else in the query. */
  private async post(
    body: string | Uint8Array,
    headers: Record<string, string>,
    query: Record<string, string>,
    active: ActiveSession,
    callnum: number,
    options: CallOptions = {},
  ): Promise<HubReply> {
    const url = new URL(this.hubUrl);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const allHeaders = { ...headers };
    if (active.headerAuth) {
      allHeaders["Koji-Session-Id"] = String(active.id);
      allHeaders["Koji-Session-Key"] = active.key;
      allHeaders["Koji-Session-Callnum"] = String(callnum);
    } else {
      url.searchParams.set("session-id", String(active.id));
      url.searchParams.set("session-key", active.key);
      url.searchParams.set("callnum", String(callnum));
    }
    const reply = await this.options.transport.post(url, allHeaders, body, options.signal, options.timeoutMs);
    this.version = reply.kojiVersion ?? this.version;
    return reply;
  }

  /**
   * The login POST. A hub set up as Koji's documentation shows asks for the client certificate only under
   * /kojihub/ssllogin; over TLS 1.3 Apache must then use post-handshake authentication, which Node's TLS client
   * does not offer, and answers 403 "Cannot perform Post-Handshake Authentication". The login is then sent
   * again once over a connection capped at TLS 1.2, where Apache renegotiates for the certificate, and every
   * later login to this hub goes that way (said once in the log). Other calls stay on TLS 1.3: only the login
   * path asks for a certificate.
   */
  private async postLogin(headers: Record<string, string>): Promise<HubReply> {
    const body = encodeCall("sslLogin");
    const post = (tlsMax12: boolean) =>
      this.options.transport.post(this.loginUrl, headers, body, undefined, undefined, tlsMax12);
    if (this.loginOverTls12) return post(true);
    try {
      return await post(false);
    } catch (e) {
      if (!refusedPostHandshakeAuth(e)) throw e;
      // Logins at once are all refused at once; the first says it.
      if (!this.loginOverTls12)
        this.options.logger?.warn(
          { hub: this.hubUrl.origin, refusal: e.message },
          "the hub asks for the client certificate only at login, which TLS 1.3 cannot do for Node; logging in to it over TLS 1.2",
        );
      this.loginOverTls12 = true;
      try {
        return await post(true);
      } catch (again) {
        const error = asTransportError(again);
        throw new ImporterError(
          error.errorClass,
          error.code,
          `${error.message} (over TLS 1.2, after the hub refused the TLS 1.3 login: ${e.message})`,
          { details: error.details, cause: again },
        );
      }
    }
  }

  private async performLogin(): Promise<ActiveSession> {
    const authenticator = this.options.authenticator;
    const extra = await authenticator.loginHeaders(this.hubUrl);
    let reply: HubReply;
    try {
      reply = await this.postLogin({ "Content-Type": "text/xml", ...extra });
    } catch (e) {
      if (authenticator.kind === "gssapi" && isUnauthorized(e)) {
        throw kerberosRefused(this.hubUrl, authenticator.identity, e);
      }
      throw e;
    }
    this.version = reply.kojiVersion ?? this.version;
    const decoded = decodeResponse(reply.body);
    if (decoded.kind === "fault") throw new KojiFault(decoded.faultCode, decoded.faultString, "sslLogin");
    const info: LoginReply = parseInput(
      LoginReplySchema,
      decoded.value,
      "Koji sslLogin reply",
      "KOJI_INVALID_RESPONSE",
    );
    const active: ActiveSession = {
      id: info["session-id"],
      key: info["session-key"],
      headerAuth: info["header-auth"],
      callnum: 0,
    };
    this.logins++;
    this.options.logger?.info(
      { hub: this.hubUrl.origin, auth: this.options.authenticator.kind, header_auth: active.headerAuth },
      "Koji session opened",
    );
    return active;
  }
}

function isUnauthorized(e: unknown): e is ImporterError {
  return e instanceof ImporterError && e.code === "KOJI_HTTP_STATUS" && e.details.status === 401;
}

/**
 * The hub's front end (mod_auth_gssapi) answers 401 with Apache's HTML page when it does not accept our ticket: the
 * principal or realm is not allowed, or the ticket was made for a key the hub's HTTP keytab no longer has. The
 * same ticket gets the same answer, so this is permanent, and the page itself says nothing worth showing.
 */
function kerberosRefused(hubUrl: URL, principal: string, cause: ImporterError): ImporterError {
  return permanentError(
    "KOJI_GSSAPI_REFUSED",
    `Koji hub ${hubUrl.origin}${hubUrl.pathname} refused the Kerberos login of ${principal} (HTTP 401 from ` +
      "/ssllogin): check that the hub accepts this principal and realm and that its HTTP keytab is current",
    { cause, details: { hub: hubUrl.href, principal, status: 401 } },
  );
}

/** Apache's 403 when it would need TLS 1.3 post-handshake authentication to ask for the client certificate. */
function refusedPostHandshakeAuth(e: unknown): e is ImporterError {
  return (
    e instanceof ImporterError &&
    e.code === "KOJI_HTTP_STATUS" &&
    e.details.status === 403 &&
    /post-handshake authentication/i.test(e.message)
  );
}

function abortable(signal: AbortSignal | undefined): { signal: AbortSignal } | undefined {
  return signal ? { signal } : undefined;
}

function asTransportError(e: unknown): ImporterError {
  return e instanceof ImporterError ? e : retryableError("KOJI_TRANSPORT", String(e), { cause: e });
}

/**
 * AuthExpired is the hub's renewal timeout. "Invalid session" is an AuthError the hub gives when our session row is
 * gone (logged out by an admin, hub database restored); without a new login a long-running importer would fail
 * every call on that hub until restarted. Other AuthErrors (no CG access, a disabled user) are real refusals.
 */
function needsNewSession(fault: KojiFault): boolean {
  if (fault.faultCode === KojiFaultCode.AuthExpired) return true;
  return fault.faultCode === KojiFaultCode.AuthError && fault.faultString.startsWith("Invalid session");
}

/**
 * Whether a failed request may have run on the hub: it left this process and no answer proves otherwise. A 4xx
 * from the hub or its front end (bad request, refused certificate, wrong URL) means the method never ran.
 */
function mayHaveCommitted(error: ImporterError): boolean {
  if (error.details.sent === false) return false;
  return !(error.code === "KOJI_HTTP_STATUS" && !error.retryable);
}

function commitUncertain(method: string, callnum: number, cause: ImporterError): ImporterError {
  return retryableError(
    "KOJI_COMMIT_UNCERTAIN",
    `Koji ${method} (callnum ${callnum}) may have reached the hub before it failed (${cause.message}); ` +
      "whether it took effect is unknown, so it is not resent: check the hub's state (getBuild) before trying again",
    { cause, details: { method, callnum, causeCode: cause.code } },
  );
}
