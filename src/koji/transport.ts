import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { Agent, request } from "undici";
import { type ImporterError, permanentError, retryableError } from "../errors.js";
import {
  type ClientCertificate,
  certificateAlertDetails,
  classifyNetworkError,
  readClientCertificate,
} from "../retry/network-errors.js";

/**
 * HTTP to one Koji hub: a keep-alive undici Agent (TLS client certificate and CA read from files), POST only, and
 * every failure turned into an ImporterError that says whether the request can have reached the hub. That last
 * fact is what lets the session refuse to resend a call that may have committed.
 */

export interface KojiTlsFiles {
  /** PEM client certificate and key, presented on every connection (Koji's sslLogin reads the subject CN). */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** PEM CA bundle that signed the hub's certificate; replaces the system CAs when set, as Koji's `serverca`. */
  caFile?: string | undefined;
}

/** Parallel connections to a hub unless configured otherwise. */
export const DEFAULT_HUB_CONNECTIONS = 8;

export interface KojiTransportOptions {
  tls?: KojiTlsFiles;
  /** Limit for waiting on response headers and between body bytes. CGImport of a big build takes a while. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Koji replies are small; a reply this large is a misbehaving hub or proxy, not data. */
  maxResponseBytes?: number;
  /** Parallel connections to the hub: one per call in flight (KojiSession leases as many sessions). */
  connections?: number;
}

export interface HubReply {
  status: number;
  body: Buffer;
  /** The hub's `Koji-Version` header; a reply without it came from something in front of the hub. */
  kojiVersion: string | undefined;
}

/**
 * A failure below HTTP, read by the importer's one network-error classifier (src/retry/network-errors.ts), as an
 * ImporterError whose `details.sent` says whether the hub can have seen the request. A certificate outside its
 * validity period, the hub's or ours (`clientCertificate`: the hub's refusal of it may arrive as a closed
 * connection), is retryable and carries the alert details; a name or CA mismatch, and any other TLS failure, is
 * permanent: the same handshake fails the same way until someone changes the configuration.
 */
export function transportError(
  error: unknown,
  url: URL,
  clientCertificate?: ClientCertificate,
): ImporterError {
  const failure = classifyNetworkError(error, { clientCertificate });
  const { code, reason, sent } = failure;
  const where = `${url.origin}${url.pathname}`;
  const details = { cause_code: code, sent };
  if (failure.kind === "certificate-validity") {
    return retryableError(
      "KOJI_TLS_CERT_VALIDITY",
      `Koji hub ${where}: TLS certificate not valid now (${code}): ${reason}`,
      {
        cause: error,
        details: { ...details, ...certificateAlertDetails(failure, url) },
      },
    );
  }
  if (failure.kind === "certificate-trust" || failure.kind === "tls") {
    return permanentError("KOJI_TLS", `Koji hub ${where}: TLS failure (${code}): ${reason}`, {
      cause: error,
      details,
    });
  }
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
    return permanentError("KOJI_RESPONSE_TOO_LARGE", `Koji hub ${where}: reply larger than allowed`, {
      cause: error,
      details: { sent: true },
    });
  }
  return retryableError(
    sent ? "KOJI_TRANSPORT" : "KOJI_UNREACHABLE",
    `Koji hub ${where}: ${sent ? "request failed" : "unreachable"} (${code ?? "error"}): ${reason}`,
    { cause: error, details },
  );
}

/** The readable text of a reply body: an error page from Apache in front of the hub is HTML. */
function bodyText(body: string): string {
  return body
    .replace(/<(script|style|title)[^>]*>[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function statusError(status: number, body: string, url: URL): ImporterError {
  const excerpt = bodyText(body).slice(0, 300);
  const message = `Koji hub ${url.origin}${url.pathname}: HTTP ${status}${excerpt ? `: ${excerpt}` : ""}`;
  // 408 and 429 ask to come back later; 5xx is the hub or a proxy in front of it failing. The rest (400 for a
  // request the hub cannot parse, 403 from a front end refusing our certificate, 404 for a wrong hub URL)
  // will be answered the same way next time. The request did reach something, so it may have been processed.
  const retry = status === 408 || status === 429 || status >= 500;
  const make = retry ? retryableError : permanentError;
  return make("KOJI_HTTP_STATUS", message, { details: { status, sent: true } });
}

/**
 * Upload chunks go to the socket as a stream of slices of this size. Handed over whole, TLS encrypts an 8 MiB chunk
 * into a second 8 MiB buffer at once (the bench saw peak RSS rise by about the chunk size); as a stream, the
 * socket's backpressure keeps that copy to a slice. A Readable, not a bare iterator: undici writes iterators with
 * a drain wait per piece, which the bench measured at a third of the speed for 1 MiB chunks.
 */
const BODY_SLICE_BYTES = 512 * 1024;

function slices(body: Uint8Array): Readable {
  function* cut(): Generator<Uint8Array> {
    for (let at = 0; at < body.length; at += BODY_SLICE_BYTES) {
      yield body.subarray(at, Math.min(at + BODY_SLICE_BYTES, body.length));
    }
  }
  return Readable.from(cut(), { objectMode: false });
}

export class KojiTransport {
  private tls12: Agent | undefined;

  private constructor(
    private readonly agent: Agent,
    private readonly timeoutMs: number,
    private readonly makeTls12Agent: () => Agent,
    /** Ours, for its validity period: an expired one shows as a connection the hub closed (see transportError). */
    private readonly clientCertificate: ClientCertificate | undefined,
  ) {}

  static async create(options: KojiTransportOptions = {}): Promise<KojiTransport> {
    const tls = options.tls ?? {};
    const [cert, key, ca] = await Promise.all(
      [tls.certFile, tls.keyFile, tls.caFile].map(async (file) => {
        if (file === undefined) return undefined;
        try {
          return await readFile(file);
        } catch (e) {
          throw permanentError("KOJI_TLS_FILES", `Koji TLS: cannot read ${file}: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }),
    );
    const makeAgent = (maxVersion?: "TLSv1.2") =>
      new Agent({
        connect: {
          ...(cert ? { cert } : {}),
          ...(key ? { key } : {}),
          ...(ca ? { ca } : {}),
          ...(maxVersion ? { maxVersion } : {}),
          timeout: options.connectTimeoutMs ?? 10_000,
        },
        // Apache in front of a hub closes idle connections after ~5 s and says so in Keep-Alive; undici honours
        // that hint, and these bounds keep sockets warm between the chunks and calls of one import.
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        connections: maxVersion ? 2 : (options.connections ?? DEFAULT_HUB_CONNECTIONS),
        maxResponseSize: options.maxResponseBytes ?? 64 * 1024 * 1024,
      });
    return new KojiTransport(
      makeAgent(),
      options.timeoutMs ?? 120_000,
      () => makeAgent("TLSv1.2"),
      readClientCertificate(cert),
    );
  }

  /**
   * Connections capped at TLS 1.2, made on first use. A hub set up as Koji's documentation shows asks for the
   * client certificate only under /kojihub/ssllogin; on TLS 1.3 that needs post-handshake authentication, which
   * Node's TLS client does not offer, so Apache refuses the login (403). On TLS 1.2 it renegotiates instead.
   */
  private tls12Agent(): Agent {
    this.tls12 ??= this.makeTls12Agent();
    return this.tls12;
  }

  /**
   * One POST. Resolves with the body of a 200 reply; rejects with an ImporterError whose `details.sent` is false
   * only when the hub cannot have received the request.
   */
  async post(
    url: URL,
    headers: Record<string, string>,
    body: string | Uint8Array,
    signal?: AbortSignal,
    /** How long the hub may take to answer this request; the transport's timeout when not given. */
    timeoutMs?: number,
    /** Over a connection capped at TLS 1.2 (see tls12Agent). */
    tlsMax12 = false,
  ): Promise<HubReply> {
    let response: Awaited<ReturnType<typeof request>>;
    const sliced = typeof body !== "string" && body.length > BODY_SLICE_BYTES;
    try {
      response = await request(url, {
        method: "POST",
        headers: sliced ? { ...headers, "Content-Length": String(body.length) } : headers,
        body: sliced ? slices(body) : body,
        dispatcher: tlsMax12 ? this.tls12Agent() : this.agent,
        headersTimeout: timeoutMs ?? this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      throw transportError(e, url, this.clientCertificate);
    }
    let payload: Buffer;
    try {
      payload = Buffer.from(await response.body.arrayBuffer());
    } catch (e) {
      throw transportError(e, url, this.clientCertificate);
    }
    if (response.statusCode !== 200) throw statusError(response.statusCode, payload.toString("utf8"), url);
    const version = response.headers["koji-version"];
    return {
      status: response.statusCode,
      body: payload,
      kojiVersion: Array.isArray(version) ? version[0] : version,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.tls12?.close()]);
  }
}
