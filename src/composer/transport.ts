import type { IncomingHttpHeaders } from "node:http";
import { rootCertificates } from "node:tls";
import { Agent, type Dispatcher, request } from "undici";
import type { ClientCertificate } from "../retry/network-errors.js";
import { abortedError, type ExchangeTarget, type RequestLabel, transportError } from "./errors.js";
import type { ComposerTimeouts, Pem } from "./options.js";

export type ResponseBody = Dispatcher.ResponseData["body"];

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
}

export interface AgentSettings {
  timeouts: ComposerTimeouts;
  connections: number;
  /** Replaces the system trust store when given (composer behind a private CA trusts only that CA). */
  ca?: Pem | Pem[];
  cert?: Pem;
  key?: Pem;
}

/** One keep-alive pool per purpose; undici reuses idle sockets, so a compose's four calls share a connection. */
export function createAgent(settings: AgentSettings): Agent {
  return new Agent({
    connections: settings.connections,
    headersTimeout: settings.timeouts.headersMs,
    bodyTimeout: settings.timeouts.bodyMs,
    connect: {
      timeout: settings.timeouts.connectMs,
      rejectUnauthorized: true,
      ...(settings.ca === undefined ? {} : { ca: settings.ca }),
      ...(settings.cert === undefined ? {} : { cert: settings.cert }),
      ...(settings.key === undefined ? {} : { key: settings.key }),
    },
  });
}

/**
 * The token endpoint is usually a public SSO service while composer may sit behind a private CA: trust the system
 * roots plus that CA, so one setting serves both.
 */
export function systemRootsPlus(ca: Pem | undefined): Pem[] | undefined {
  return ca === undefined ? undefined : [...rootCertificates, ca];
}

export interface SendInit {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** The one the dispatcher presents, if any: when it has expired, that is why the server closed the connection. */
  clientCertificate?: ClientCertificate | undefined;
}

/** One HTTP exchange up to the response head; failures below HTTP become coded, classed errors. */
export async function send(
  dispatcher: Dispatcher,
  url: URL,
  init: SendInit,
  label: RequestLabel,
): Promise<HttpResponse> {
  try {
    const response = await request(url, {
      dispatcher,
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal: init.signal,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  } catch (error) {
    throw failure(label, error, init.signal, { url, clientCertificate: init.clientCertificate });
  }
}

/** Abort from our own caller wins over whatever undici reports for it. */
export function failure(
  label: RequestLabel,
  error: unknown,
  signal: AbortSignal | undefined,
  target?: ExchangeTarget,
) {
  return signal?.aborted ? abortedError(label, error) : transportError(label, error, target);
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Frees the connection for reuse without reading a body nobody wants. */
export async function discard(body: ResponseBody): Promise<void> {
  try {
    await body.dump();
  } catch {
    // the socket is gone anyway; undici will not reuse it
  }
}
