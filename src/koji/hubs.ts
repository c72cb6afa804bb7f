import type { Logger } from "pino";
import type { KojiHubConfig } from "../config/schema.js";
import { permanentError, retryableError } from "../errors.js";
import type { CallObserver } from "../telemetry/calls.js";
import { gssapiAuthenticator, type KojiAuthenticator, sslAuthenticator } from "./auth.js";
import { DEFAULT_CG_NAME, KojiClient } from "./client.js";
import { KojiSession } from "./session.js";
import { DEFAULT_HUB_CONNECTIONS, KojiTransport } from "./transport.js";

/**
 * The hubs this importer may import into, one KojiSession each (its hub sessions logged in on first use) shared
 * by every import for that hub. An event naming any other hub is refused: the importer holds no credentials for
 * it, and importing into a hub nobody configured would be a surprise nobody wants.
 */

export interface KojiHubsOptions {
  hubs: readonly KojiHubConfig[];
  cgName?: string;
  timeoutMs?: number;
  /** Connections per hub: one per call in flight (a session each). */
  connections?: number;
  logger?: Logger;
  /** Told of every hub call (the request metrics). */
  observer?: CallObserver;
}

/** Hub URLs compare without a trailing slash and with URL's own normalisation (host case, default port). */
export function normalizeHubUrl(url: string): string {
  return new URL(url).href.replace(/\/+$/, "");
}

interface HubEntry {
  config: KojiHubConfig;
  opened?: Promise<{ client: KojiClient; transport: KojiTransport }>;
}

export class KojiHubs {
  private readonly entries = new Map<string, HubEntry>();
  private closed = false;

  constructor(private readonly options: KojiHubsOptions) {
    for (const config of options.hubs) this.entries.set(normalizeHubUrl(config.url), { config });
  }

  /** The configured hub URLs, normalised. */
  get urls(): string[] {
    return [...this.entries.keys()];
  }

  has(hubUrl: string): boolean {
    return this.entries.has(safeNormalize(hubUrl));
  }

  /** The client for a hub; the session logs in on its first call. */
  async client(hubUrl: string): Promise<KojiClient> {
    // Retryable: shutting down says nothing about the import; another worker takes the redelivered event.
    if (this.closed) throw retryableError("KOJI_CLOSED", "Koji hubs: already closed (shutting down)");
    const key = safeNormalize(hubUrl);
    const entry = this.entries.get(key);
    if (!entry) {
      const known = this.urls.join(", ") || "none";
      throw permanentError(
        "KOJI_UNKNOWN_HUB",
        `Koji hub ${hubUrl} is not configured (configured: ${known})`,
        {
          details: { hub: hubUrl, configured: this.urls },
        },
      );
    }
    entry.opened ??= this.open(entry.config).catch((e) => {
      entry.opened = undefined; // a missing certificate file may be fixed; let the next call try again
      throw e;
    });
    return (await entry.opened).client;
  }

  private async open(config: KojiHubConfig): Promise<{ client: KojiClient; transport: KojiTransport }> {
    const transport = await KojiTransport.create({
      tls:
        config.auth === "ssl"
          ? { certFile: config.cert_file, keyFile: config.key_file, caFile: config.ca_file }
          : { caFile: config.ca_file },
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.connections !== undefined ? { connections: this.options.connections } : {}),
    });
    const authenticator: KojiAuthenticator =
      config.auth === "ssl"
        ? sslAuthenticator()
        : gssapiAuthenticator({ principal: config.principal, keytabFile: config.keytab_file });
    const session = new KojiSession({
      hubUrl: config.url,
      transport,
      authenticator,
      logger: this.options.logger?.child({ koji_hub: normalizeHubUrl(config.url) }),
      // A request beyond the connection count waits for a connection anyway; a session more would sit idle.
      maxSessions: this.options.connections ?? DEFAULT_HUB_CONNECTIONS,
    });
    return {
      client: new KojiClient(session, this.options.cgName ?? DEFAULT_CG_NAME, this.options.observer),
      transport,
    };
  }

  /** Logs every open session out and closes the connections; later `client()` calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.entries.values()].map(async (entry) => {
        const opened = await entry.opened?.catch(() => undefined);
        entry.opened = undefined;
        if (!opened) return;
        await opened.client.logout();
        await opened.transport.close();
      }),
    );
  }
}

function safeNormalize(url: string): string {
  try {
    return normalizeHubUrl(url);
  } catch {
    return url;
  }
}
