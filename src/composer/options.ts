import type { Logger } from "../log.js";
import type { Random } from "../retry/backoff.js";
import type { CallObserver } from "../telemetry/calls.js";
import type { ComposerRetryPolicy } from "./retry.js";

/** PEM text or bytes. The service reads the files (src/service/composer-options.ts); the client sees contents. */
export type Pem = string | Buffer;

/**
 * How the client proves who it is, as composer deployments do it: an SSO client-credentials token (the hosted
 * service), a client certificate (on-premise composer behind mutual TLS), or nothing (a local composer).
 */
export type ComposerAuthOptions =
  | { mode: "none" }
  | {
      mode: "oauth";
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      /**
       * A token is renewed this long before it expires (at most half its lifetime), so a request never leaves
       * with a token that dies on the way.
       */
      refreshMarginMs?: number;
    }
  | { mode: "mtls"; cert: Pem; key: Pem };

export interface ComposerTimeouts {
  /** TCP and TLS connection set-up. */
  connectMs: number;
  /** From sending the request to the last response header. */
  headersMs: number;
  /** Longest silence between two body chunks, not the whole body: a large manifest may take longer in all. */
  bodyMs: number;
}

export interface ComposerClientOptions {
  /** The composer server: its origin, or its API root `<origin>/api/image-builder-composer/v2`. */
  url: string;
  auth: ComposerAuthOptions;
  /** CA bundle that signs composer's certificate, when it is not a public one; also trusted for the token URL. */
  ca?: Pem;
  timeouts?: Partial<ComposerTimeouts>;
  /** Retries of one request within the call (src/composer/retry.ts); the service sets maxRetries only. */
  retry?: Partial<ComposerRetryPolicy>;
  /** A JSON body larger than this is refused rather than held in memory (manifests are the largest, a few MB). */
  maxJsonBytes?: number;
  /** Connections kept to composer; the service gives twice the AMQP prefetch, at least 4. */
  connections?: number;
  logger?: Logger;
  /**
   * Told of every try of every request (the worker wires it to the request metrics). Each try gets a span whether
   * or not an observer is given.
   */
  observer?: CallObserver;
  /** Jitter source of the backoff; tests pass a constant to make waits predictable. */
  random?: Random;
}

export const DEFAULT_TIMEOUTS: ComposerTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };
export const DEFAULT_MAX_JSON_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CONNECTIONS = 16;
export const DEFAULT_REFRESH_MARGIN_MS = 30_000;
