import type { Dispatcher } from "undici";
import { z } from "zod";
import { authError, httpStatusError, isRetryableStatus, type RequestLabel } from "./errors.js";
import { parseBody, readErrorReason, readJson } from "./json-body.js";
import { parseRetryAfter } from "./retry-after.js";
import { discard, header, send } from "./transport.js";

/** RFC 6749 §5.1, as Red Hat SSO (Keycloak) answers a client-credentials grant. */
export const OAuthTokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z
    .string()
    .refine((type) => type.toLowerCase() === "bearer", "expected a Bearer token")
    .optional(),
  // Some servers send the number as a string; the RFC says seconds either way.
  expires_in: z.coerce.number().positive().optional(),
});

/** RFC 6749 makes expires_in optional; assume a short life rather than trusting a token forever. */
const ASSUMED_LIFETIME_MS = 60_000;
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

export interface OAuthSettings {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshMarginMs: number;
}

interface HeldToken {
  value: string;
  /** Monotonic time after which the token is renewed before use. */
  renewAt: number;
}

/**
 * Client-credentials tokens for composer. One token is shared by every request; concurrent requests that find
 * it due share one token request instead of stampeding the SSO.
 */
export class OAuthTokenSource {
  private held: HeldToken | undefined;
  private inFlight: Promise<string> | undefined;
  private readonly label: RequestLabel;

  constructor(
    private readonly settings: OAuthSettings,
    private readonly dispatcher: Dispatcher,
    private readonly now: () => number = () => performance.now(),
  ) {
    const url = new URL(settings.tokenUrl);
    this.label = { method: "POST", endpoint: `token endpoint ${url.origin}${url.pathname}` };
  }

  async token(): Promise<string> {
    if (this.held && this.now() < this.held.renewAt) return this.held.value;
    // No caller's AbortSignal here: the request is shared, and the agent's timeouts bound it.
    this.inFlight ??= this.requestToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** After a 401: forget `token` unless another request already replaced it (then that one is fresh). */
  invalidate(token: string): void {
    if (this.held?.value === token) this.held = undefined;
  }

  private async requestToken(): Promise<string> {
    const startedAt = this.now();
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: this.settings.clientId,
      client_secret: this.settings.clientSecret,
    });
    const response = await send(
      this.dispatcher,
      new URL(this.settings.tokenUrl),
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form.toString(),
      },
      this.label,
    );
    if (response.status !== 200) {
      const reason = await readErrorReason(response.body);
      if (isRetryableStatus(response.status)) {
        const retryAfter = parseRetryAfter(response.headers["retry-after"]);
        throw httpStatusError(this.label, response.status, reason, retryAfterDetail(retryAfter));
      }
      throw authError(
        this.label,
        `token request refused: HTTP ${response.status}${reason ? ` (${reason})` : ""}`,
        {
          status: response.status,
        },
      );
    }
    const contentType = header(response.headers, "content-type");
    let body: unknown;
    try {
      body = await readJson(response.body, this.label, MAX_TOKEN_RESPONSE_BYTES, contentType);
    } finally {
      await discard(response.body);
    }
    const parsed = parseBody(OAuthTokenResponseSchema, body, this.label);
    const lifetimeMs = parsed.expires_in === undefined ? ASSUMED_LIFETIME_MS : parsed.expires_in * 1000;
    // Counted from when we asked, not when the answer came: the server's clock started no later than that.
    const margin = Math.min(this.settings.refreshMarginMs, lifetimeMs / 2);
    this.held = { value: parsed.access_token, renewAt: startedAt + lifetimeMs - margin };
    return parsed.access_token;
  }
}

function retryAfterDetail(retryAfter: number | undefined): Record<string, unknown> {
  return retryAfter === undefined ? {} : { retry_after_ms: retryAfter };
}
