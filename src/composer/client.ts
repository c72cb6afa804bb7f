import type { Agent } from "undici";
import type { z } from "zod";
import type { Logger } from "../log.js";
import type { Random } from "../retry/backoff.js";
import { type ClientCertificate, readClientCertificate } from "../retry/network-errors.js";
import {
  type ComposeLogs,
  ComposeLogsSchema,
  type ComposeManifests,
  ComposeManifestsSchema,
  type ComposeStatus,
  ComposeStatusSchema,
} from "../schemas/composer.js";
import { type CallObserver, observeCall } from "../telemetry/calls.js";
import { authError, httpStatusError, notFinishedError, type RequestLabel } from "./errors.js";
import { parseBody, readErrorReason, readJson } from "./json-body.js";
import { OAuthTokenSource } from "./oauth.js";
import {
  type ComposerClientOptions,
  DEFAULT_CONNECTIONS,
  DEFAULT_MAX_JSON_BYTES,
  DEFAULT_REFRESH_MARGIN_MS,
  DEFAULT_TIMEOUTS,
} from "./options.js";
import { apiRoot, COMPOSER_ENDPOINTS, type ComposerEndpoint, composePath } from "./paths.js";
import { type ComposerRetryPolicy, DEFAULT_RETRY_POLICY, withRetries } from "./retry.js";
import { parseRetryAfter } from "./retry-after.js";
import { createAgent, discard, type HttpResponse, header, send, systemRootsPlus } from "./transport.js";

export interface CallOptions {
  /** Aborts the call, including a wait between retries (service shutdown). */
  signal?: AbortSignal;
}

export interface StatusOptions extends CallOptions {
  /** Return a `pending` status instead of failing with COMPOSER_NOT_FINISHED (for display, not for import). */
  allowPending?: boolean;
}

/**
 * osbuild-composer Cloud API v2, the calls an importer needs: what a compose is, what it logged and which manifests
 * it built. Every failure is an ImporterError with a
 * COMPOSER_* code and its class; transient ones are retried here a bounded number of times first.
 */
export class ComposerClient {
  private readonly root: URL;
  private readonly agent: Agent;
  private readonly tokenAgent: Agent | undefined;
  private readonly tokens: OAuthTokenSource | undefined;
  private readonly policy: ComposerRetryPolicy;
  private readonly maxJsonBytes: number;
  private readonly random: Random;
  private readonly logger: Logger | undefined;
  private readonly observer: CallObserver | undefined;
  /** The mTLS certificate's validity period: an expired one shows as a connection composer closed. */
  private readonly clientCertificate: ClientCertificate | undefined;

  constructor(options: ComposerClientOptions) {
    this.root = apiRoot(options.url);
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const connections = options.connections ?? DEFAULT_CONNECTIONS;
    const auth = options.auth;
    this.agent = createAgent({
      timeouts,
      connections,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(auth.mode === "mtls" ? { cert: auth.cert, key: auth.key } : {}),
    });
    if (auth.mode === "oauth") {
      const ca = systemRootsPlus(options.ca);
      this.tokenAgent = createAgent({ timeouts, connections: 2, ...(ca === undefined ? {} : { ca }) });
      this.tokens = new OAuthTokenSource(
        {
          tokenUrl: auth.tokenUrl,
          clientId: auth.clientId,
          clientSecret: auth.clientSecret,
          refreshMarginMs: auth.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
        },
        this.tokenAgent,
      );
    }
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.maxJsonBytes = options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.observer = options.observer;
    this.clientCertificate = auth.mode === "mtls" ? readClientCertificate(auth.cert) : undefined;
  }

  /**
   * The compose's status. A compose still `pending` fails with the retryable COMPOSER_NOT_FINISHED: the
   * finished-event arrived before composer's own view caught up, so ask again later.
   */
  async getComposeStatus(composeId: string, options: StatusOptions = {}): Promise<ComposeStatus> {
    const status = await this.getJson("status", composeId, ComposeStatusSchema, options);
    if (status.status === "pending" && !options.allowPending) {
      throw notFinishedError(composeId, COMPOSER_ENDPOINTS.status.path);
    }
    return status;
  }

  getComposeLogs(composeId: string, options: CallOptions = {}): Promise<ComposeLogs> {
    return this.getJson("logs", composeId, ComposeLogsSchema, options);
  }

  getComposeManifests(composeId: string, options: CallOptions = {}): Promise<ComposeManifests> {
    return this.getJson("manifests", composeId, ComposeManifestsSchema, options);
  }

  /** Closes idle connections and waits for running requests. */
  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.tokenAgent?.close()]);
  }

  protected getJson<S extends z.ZodType>(
    endpoint: ComposerEndpoint,
    composeId: string,
    schema: S,
    options: CallOptions,
  ): Promise<z.infer<S>> {
    const label = this.label(endpoint, composeId);
    return this.exchange(endpoint, composeId, options, "application/json", async (response) => {
      const contentType = header(response.headers, "content-type");
      const body = await readJson(response.body, label, this.maxJsonBytes, contentType, options.signal);
      return parseBody(schema, body, label);
    });
  }

  /**
   * One call with its retries: each attempt authenticates, sends, checks the status and hands a 2xx response to
   * `consume`. A 401 with an OAuth token renews the token and repeats the request once per call; a second 401
   * means composer does not accept these credentials at all.
   */
  protected exchange<T>(
    endpoint: ComposerEndpoint,
    composeId: string,
    options: CallOptions,
    accept: string,
    consume: (response: HttpResponse) => Promise<T>,
  ): Promise<T> {
    const label = this.label(endpoint, composeId);
    const url = new URL(this.root.pathname + composePath(endpoint, composeId), this.root);
    let renewedAfter401 = false;
    const attempt = (): Promise<T> =>
      observeCall(this.observer, { system: "composer", method: endpoint }, () => exchangeOnce());
    const exchangeOnce = async (): Promise<T> => {
      let token = await this.tokens?.token();
      let response = await this.sendWith(url, accept, token, options.signal, label);
      if (response.status === 401 && this.tokens && token !== undefined && !renewedAfter401) {
        renewedAfter401 = true;
        await discard(response.body);
        this.tokens.invalidate(token);
        token = await this.tokens.token();
        response = await this.sendWith(url, accept, token, options.signal, label);
      }
      if (response.status >= 200 && response.status < 300) return consume(response);
      const reason = await readErrorReason(response.body);
      if (response.status === 401) {
        const what = this.tokens ? "a freshly issued token was refused" : "composer requires credentials";
        throw authError(label, `HTTP 401: ${what}${reason ? ` (${reason})` : ""}`, { status: 401 });
      }
      const retryAfter = parseRetryAfter(response.headers["retry-after"]);
      throw httpStatusError(
        label,
        response.status,
        reason,
        retryAfter === undefined ? {} : { retry_after_ms: retryAfter },
      );
    };
    return withRetries(attempt, {
      policy: this.policy,
      label,
      random: this.random,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(this.logger === undefined ? {} : { logger: this.logger }),
    });
  }

  private sendWith(
    url: URL,
    accept: string,
    token: string | undefined,
    signal: AbortSignal | undefined,
    label: RequestLabel,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const init = { method: "GET" as const, headers, clientCertificate: this.clientCertificate };
    return send(this.agent, url, { ...init, ...(signal ? { signal } : {}) }, label);
  }

  protected label(endpoint: ComposerEndpoint, composeId: string): RequestLabel {
    const { method, path } = COMPOSER_ENDPOINTS[endpoint];
    return { method, endpoint: path, composeId };
  }
}
