import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import {
  decodeCall,
  encodeFault,
  encodeResponse,
  type XmlRpcDecoded,
  type XmlRpcValue,
} from "../../../src/koji/xmlrpc/index.js";
import { createTestPki, type Pem, type TestPki } from "../pki.js";
import { archiveTypeRows } from "./archive-types.js";
import { FakeHubState } from "./hub-state.js";
import { HubLatency, type LatencyModel, noLatency, type OutageKind } from "./latency.js";
import { COMMITTING, METHODS } from "./methods.js";
import {
  AuthError,
  AuthExpired,
  GenericError,
  HubFault,
  LockError,
  PythonError,
  RetryError,
  SequenceError,
  type Session,
  uploadDirKey,
} from "./state.js";
import { handleUpload } from "./uploads.js";

export interface FakeKojiHubOptions {
  port?: number;
  /** Registered archive types (name → space-separated extensions); default: the real hub's table. */
  archiveTypes?: Record<string, string>;
  /** Answer `header-auth: false` at login, so clients must send the session in query arguments. */
  queryAuth?: boolean;
  /**
   * Where the hub's Apache asks for the client certificate: on every connection (`vhost`, the default), or only
   * under /kojihub/ssllogin as Koji's documentation configures it (`documented`). There, over TLS 1.3, Apache
   * needs post-handshake authentication, which Node's TLS client does not offer, and answers 403; over TLS 1.2
   * it renegotiates for the certificate. Node's TLS server cannot ask for post-handshake authentication, and its
   * renegotiation did not bring the client's certificate, so this fake asks for it in every handshake and answers
   * Apache's 403 to every login over TLS 1.3: what a Node client sees of the real layout.
   */
  loginLayout?: "vhost" | "documented";
  /** The PKI to serve with (the caller's to clean up); a fresh one by default. */
  pki?: TestPki;
  /** The certificate the hub presents: `pki.server` by default, or one a client must refuse (pki.serverCert). */
  serverCert?: Pem;
  /** The hub's MaxRequestLength: an XML-RPC request body over it is refused, "Request too long". */
  maxRequestLength?: number;
  /** Service times and concurrency limits (see latency.ts); none by default, every call answered at once. */
  latency?: Partial<LatencyModel>;
  /** Start down: every request refused as `outage` says until `settings.outage` is set to false. */
  outage?: OutageKind;
}

export interface FakeKojiHub {
  /** The hub URL, `https://127.0.0.1:PORT/kojihub`. */
  url: string;
  pki: TestPki;
  state: FakeHubState;
  /** Calls by method; faults answered to whole requests, by faultCode (multicall's per-call faults are not). */
  counters: {
    calls: Record<string, number>;
    faults: Record<number, number>;
    uploadBytes: number;
    uploadChunks: number;
    /** Logins refused for want of a client certificate (documented layout over TLS 1.3). */
    loginRefusals: number;
    /** Requests refused because the hub was down (settings.outage); they are in `requests`, not in `calls`. */
    outageRefusals: number;
  };
  /** A client certificate for `user`, as files (cert, key) and PEM text. */
  clientCert(user: string): { cert: string; key: string; certFile: string; keyFile: string };
  grant(user: string, cg?: string): void;
  makeAdmin(user: string): void;
  addTask(id: number): void;
  /** Faults for the next calls: each is used once per count, then the hub behaves again. */
  inject: {
    chunkFailures(count: number, kind: "http500" | "lock"): void;
    authExpiredOnce(): void;
    hiddenUploads(count: number): void;
    importFailure(fault: InjectedFailure): void;
    /** The next call of `method` fails: a fault before it runs, or run and its reply lost (connection cut). */
    callFailure(method: string, fault: InjectedFailure): void;
    /** The next request that `match` accepts gets `action`. */
    request(match: (r: RecordedRequest) => boolean, action: RequestInjection): void;
  };
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The recorded calls of one method. */
  calls(method: string): RecordedRequest[];
  /**
   * Settings a test may change while the hub runs: `queryAuth` and `latency` as the options of those names;
   * `outage` takes the hub down (every request refused: `offline` answers Koji's ServerOffline fault, as the hub
   * does when its database is out of reach or it is switched offline; `http503` answers Apache's 503 page, as a
   * front end with no hub behind it) and `false` brings it back.
   */
  settings: { queryAuth: boolean; latency: LatencyModel; outage: OutageKind | false };
  /** The most requests (`hub`) and calls of each concurrency-limited method that ran at once so far. */
  latencyPeaks(): Record<string, number>;
  /** Marks every session expired, as the hub's renewal timeout does. */
  expireSessions(): void;
  /** An uploaded file's content, as the hub has it in its work directory. */
  uploadedFile(directory: string, name: string): Buffer | undefined;
  close(): Promise<void>;
}

const KOJI_VERSION = "1.35.3";

/** What Apache 2.4 with mod_ssl answers a TLS 1.3 client that cannot do post-handshake authentication. */
export const APACHE_PHA_REFUSAL = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html><head>
<title>403 Forbidden</title>
</head><body>
<h1>Forbidden</h1>
<p>You don't have permission to access this resource.Reason: Cannot perform Post-Handshake Authentication.<br /></p>
</body></html>
`;

const MULTICALL = "system.multicall";

/** What Apache 2.4 answers when the application behind it is unavailable. */
const APACHE_503 = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>503 Service Unavailable</title>
</head><body>
<h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your
request due to maintenance downtime or capacity
problems. Please try again later.</p>
</body></html>
`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function send(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, {
    "Content-Type": "text/xml",
    "Koji-Version": KOJI_VERSION,
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** One request as the fake hub received it. */
export interface RecordedRequest {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The XML-RPC method; `rawUpload` for an upload chunk. */
  method: string;
  params: XmlRpcDecoded[];
  bodyLength: number;
  sessionVia: "header" | "query" | "none";
  callnum: number | undefined;
  /** Set when the hub was down and refused it (settings.outage): it never ran. */
  outage?: OutageKind;
}

/** What the next matching request gets instead of (or besides) the hub's own handling. */
export type RequestInjection =
  | { fault: [number, string] }
  /** An HTTP status from something in front of the hub (a proxy's 502), with its body. */
  | { status: number; body?: string }
  /** Run the method, then close the connection without an answer (the reply got lost). */
  | { dropAfter: true }
  /** Close the connection without an answer before running anything. */
  | { dropBefore: true }
  /** Answer an upload chunk with a digest that is not the chunk's. */
  | { wrongDigest: true }
  | { delayMs: number }
  /** Answer this value instead of running the method. */
  | { reply: XmlRpcValue };

export type InjectedFailure = { faultCode: number; faultString: string } | "reply-lost";

/**
 * A fake Koji hub over real HTTPS on loopback that behaves as Koji 1.35.3 does on the paths the importer uses,
 * as measured on a real hub and in the captures of test/fixtures/koji-wire; test/koji/fake-hub-rules.test.ts has
 * a test per rule. It also records every request and takes per-request injections, for the client's own tests.
 */
export async function startFakeKojiHub(options: FakeKojiHubOptions = {}): Promise<FakeKojiHub> {
  const pki = options.pki ?? createTestPki();
  const state = new FakeHubState(
    mkdtempSync(join(tmpdir(), "koji-fake-work-")),
    options.archiveTypes && archiveTypeRows(options.archiveTypes),
  );
  const counters = {
    calls: {} as Record<string, number>,
    faults: {} as Record<number, number>,
    uploadBytes: 0,
    uploadChunks: 0,
    loginRefusals: 0,
    outageRefusals: 0,
  };
  const faults = {
    chunk: { count: 0, kind: "http500" as "http500" | "lock" },
    authExpired: false,
    hidden: 0,
    calls: new Map<string, InjectedFailure[]>(),
  };
  const inject = (method: string, fault: InjectedFailure) => {
    faults.calls.set(method, [...(faults.calls.get(method) ?? []), fault]);
  };

  function session(
    req: IncomingMessage,
    query: URLSearchParams,
  ): { session: Session; callnum: number | null } | undefined {
    const id = req.headers["koji-session-id"] ?? query.get("session-id");
    if (id === undefined || id === null) return undefined;
    const key = req.headers["koji-session-key"] ?? query.get("session-key");
    const viaHeaders = req.headers["koji-session-id"] !== undefined;
    // The hub reads Koji-Session-Callnum (what clients send) and the older Koji-Callnum. (Released 1.35.3 read only
    // the older name, so the captures, made with it, reuse callnum 0 after a committed CGInitBuild; the hub on the
    // test machine, 1.35.3 with later fixes, refuses that.)
    const callnumText = viaHeaders
      ? (req.headers["koji-session-callnum"] ?? req.headers["koji-callnum"])
      : query.get("callnum");
    const found = state.sessions.get(Number(id));
    if (!found || found.key !== key) throw AuthError("Invalid session or bad credentials");
    if (faults.authExpired || Date.now() - found.createdAt > state.sessionLifetimeMs) {
      faults.authExpired = false;
      found.expired = true;
    }
    // An expired session stays in the table, refused with the same words on every call (logout included).
    if (found.expired) throw AuthExpired(`session "${found.id}" has expired`);
    const callnum = callnumText === undefined || callnumText === null ? null : Number(callnumText);
    return { session: found, callnum };
  }

  /**
   * As the hub's session check: a callnum below the last committed one is SequenceError, the same one RetryError
   * (the hub cannot tell a resend from a replay), whatever the method, read-only ones included.
   */
  function checkCallnum(current: Session, callnum: number | null, method: string): void {
    if (callnum === null || current.lastCommittedCallnum === null) return;
    if (current.lastCommittedCallnum > callnum) {
      throw SequenceError(`${current.lastCommittedCallnum} > ${callnum} (session ${current.id})`);
    }
    if (current.lastCommittedCallnum === callnum) {
      throw RetryError(`unable to retry call ${callnum} (method ${method}) for session ${current.id}`);
    }
  }

  const requests: RecordedRequest[] = [];
  const injections: { match: (r: RecordedRequest) => boolean; action: RequestInjection }[] = [];
  const settings: FakeKojiHub["settings"] = {
    queryAuth: options.queryAuth ?? false,
    latency: { ...noLatency(), ...options.latency },
    outage: options.outage ?? false,
  };
  const latency = new HubLatency(() => settings.latency);

  /** Every request as it came, for tests of what the client sends (headers, callnums, chunk sizes). */
  function recordRequest(req: IncomingMessage, url: URL, body: Buffer, isUpload: boolean): RecordedRequest {
    let call: { methodName: string; params: XmlRpcDecoded[] } = { methodName: "rawUpload", params: [] };
    if (!isUpload) {
      try {
        call = decodeCall(body);
      } catch {
        call = { methodName: "", params: [] };
      }
    }
    const query = Object.fromEntries(url.searchParams);
    const sessionVia = req.headers["koji-session-id"] ? "header" : query["session-id"] ? "query" : "none";
    const callnumText = sessionVia === "header" ? req.headers["koji-session-callnum"] : query.callnum;
    const record: RecordedRequest = {
      path: url.pathname,
      query,
      headers: req.headers,
      method: call.methodName,
      params: call.params,
      bodyLength: body.length,
      sessionVia,
      callnum: typeof callnumText === "string" ? Number(callnumText) : undefined,
    };
    requests.push(record);
    return record;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://hub");
    if (req.method !== "POST" || !url.pathname.startsWith("/kojihub")) {
      res.writeHead(404).end();
      return;
    }
    // The request holds one of the hub's workers until its answer is out (or its connection gone).
    if (!settings.outage) res.once("close", await latency.enterHub());
    const isUpload = url.searchParams.has("filename");
    const body = isUpload ? Buffer.alloc(0) : await readBody(req);
    const record = recordRequest(req, url, body, isUpload);
    if (settings.outage) {
      // Koji's offline_reply (kojixmlrpc.py) comes before the session and the method are looked at.
      counters.outageRefusals += 1;
      record.outage = settings.outage;
      if (isUpload) record.bodyLength = (await readBody(req)).length;
      if (settings.outage === "http503")
        return void res.writeHead(503, { "Content-Type": "text/html; charset=iso-8859-1" }).end(APACHE_503);
      return send(res, encodeFault(1014, "server is offline"));
    }
    const index = injections.findIndex((i) => i.match(record));
    const action = index >= 0 ? injections.splice(index, 1)[0]?.action : undefined;
    if (action) {
      if (isUpload && !("delayMs" in action || "dropAfter" in action || "wrongDigest" in action))
        record.bodyLength = (await readBody(req)).length;
      if ("dropBefore" in action) return void req.socket.destroy();
      if ("status" in action)
        return void res.writeHead(action.status).end(action.body ?? "<html>proxy error</html>");
      if ("fault" in action) return send(res, encodeFault(...action.fault));
      if ("reply" in action) return send(res, encodeResponse(action.reply));
      if ("delayMs" in action) await new Promise((resolve) => setTimeout(resolve, action.delayMs));
      // The method runs, but its answer never leaves: the connection is cut instead.
      if ("dropAfter" in action) res.end = (() => req.socket.destroy()) as unknown as typeof res.end;
    }
    if (url.pathname === "/kojihub/ssllogin") {
      const call = decodeCall(body);
      counters.calls[call.methodName] = (counters.calls[call.methodName] ?? 0) + 1;
      const socket = req.socket as TLSSocket;
      // Apache would renegotiate on TLS 1.2 and needs post-handshake authentication on TLS 1.3, which Node's
      // client does not offer. Node's TLS server can do neither reliably, so the fake asks every handshake for
      // the certificate and refuses the TLS 1.3 logins as Apache does.
      if (options.loginLayout === "documented" && socket.getProtocol() === "TLSv1.3") {
        counters.loginRefusals += 1;
        res.writeHead(403, { "Content-Type": "text/html; charset=iso-8859-1" }).end(APACHE_PHA_REFUSAL);
        return;
      }
      const cert = socket.getPeerCertificate();
      if (!socket.authorized || !cert?.subject?.CN)
        throw AuthError("could not verify client: no certificate");
      await latency.call("sslLogin", () => undefined);
      const created = state.newSession(state.user(String(cert.subject.CN)));
      send(
        res,
        encodeResponse({
          "session-id": created.id,
          "session-key": created.key,
          "header-auth": !settings.queryAuth,
        }),
      );
      return;
    }
    if (url.searchParams.has("filename")) {
      const auth = session(req, url.searchParams);
      if (!auth) throw PythonError("koji.ActionNotAllowed", "you must be logged-in to upload a file");
      checkCallnum(auth.session, auth.callnum, "None"); // the upload handler has no method name
      counters.uploadChunks += 1;
      if (faults.chunk.count > 0) {
        faults.chunk.count -= 1;
        await readBody(req);
        if (faults.chunk.kind === "http500") {
          res.writeHead(500).end("Internal Server Error");
          return;
        }
        throw LockError("[Errno 11] Resource temporarily unavailable");
      }
      const counted = (async function* () {
        for await (const part of req) {
          counters.uploadBytes += (part as Buffer).length;
          record.bodyLength += (part as Buffer).length;
          yield part as Buffer;
        }
      })();
      const reply = await latency.call("rawUpload", () =>
        handleUpload(state, auth.session, url.searchParams, counted),
      );
      if (action && "wrongDigest" in action) reply.hexdigest = "deadbeef";
      send(res, encodeResponse(reply as XmlRpcValue));
      return;
    }
    const requestBody = body;
    // As kojixmlrpc reads a call: uploads have their own path and no such limit.
    if (requestBody.length > (options.maxRequestLength ?? 4_194_304)) throw GenericError("Request too long");
    const call = decodeCall(requestBody);
    const method = call.methodName;
    counters.calls[method] = (counters.calls[method] ?? 0) + 1;
    if (method !== MULTICALL && !METHODS[method]) throw new HubFault(1000, `Invalid method: ${method}`);
    const auth = session(req, url.searchParams);
    if (!auth) {
      if (method === "getAPIVersion") return send(res, encodeResponse(1));
      if (method === "getLoggedInUser") return send(res, encodeResponse(null));
      throw AuthError("Not logged-in");
    }
    checkCallnum(auth.session, auth.callnum, method);
    const injected = faults.calls.get(method)?.shift();
    if (injected && injected !== "reply-lost") throw new HubFault(injected.faultCode, injected.faultString);
    const result = await (method === MULTICALL
      ? latency.call(MULTICALL, () => multiCall(auth, call.params[0]))
      : dispatch(auth, method, call.params));
    if (injected === "reply-lost") {
      res.socket?.destroy();
      return;
    }
    send(res, encodeResponse(result as XmlRpcValue));
  }

  /** One method on a logged-in session: keyword arguments split off as koji.decode_args does. */
  async function dispatch(
    auth: { session: Session; callnum: number | null },
    method: string,
    params: unknown[],
  ): Promise<unknown> {
    const handler = METHODS[method];
    if (!handler) throw new HubFault(1000, `Invalid method: ${method}`);
    const last = params.at(-1);
    const hasKwargs =
      typeof last === "object" &&
      last !== null &&
      !Array.isArray(last) &&
      (last as Record<string, unknown>).__starstar === true;
    const args = hasKwargs ? params.slice(0, -1) : params;
    const kwargs = hasKwargs ? { ...(last as Record<string, unknown>) } : {};
    delete kwargs.__starstar;
    if (method === "checkUpload" && faults.hidden > 0) {
      faults.hidden -= 1;
      return null;
    }
    // The callnum is stored when the call commits, after its service time (a slow CGImport commits late).
    const result = await latency.call(method, () => handler(state, auth.session, args, kwargs));
    if (COMMITTING.has(method) && auth.callnum !== null) auth.session.lastCommittedCallnum = auth.callnum;
    return result;
  }

  /**
   * `system.multicall` as the hub's multiCall runs it: each call in turn, its result as a one-element array or
   * its fault as a {faultCode, faultString, traceback} struct, so one failing call does not fail the others.
   */
  async function multiCall(
    auth: { session: Session; callnum: number | null },
    calls: unknown,
  ): Promise<unknown[]> {
    if (!Array.isArray(calls)) throw PythonError("TypeError", "'NoneType' object is not iterable");
    const results: unknown[] = [];
    for (const entry of calls) results.push(await oneOfMultiCall(auth, entry));
    return results;
  }

  async function oneOfMultiCall(auth: { session: Session; callnum: number | null }, entry: unknown) {
    const { methodName, params } = (entry ?? {}) as { methodName?: unknown; params?: unknown };
    try {
      if (typeof methodName !== "string" || !Array.isArray(params))
        throw PythonError("KeyError", typeof methodName !== "string" ? "'methodName'" : "'params'");
      counters.calls[methodName] = (counters.calls[methodName] ?? 0) + 1;
      return [
        await (methodName === MULTICALL ? multiCall(auth, params[0]) : dispatch(auth, methodName, params)),
      ];
    } catch (error) {
      // The hub's multiCall words a fault as str() of the exception's arguments, with the traceback beside it.
      const fault = error instanceof HubFault ? error : PythonError("Exception", (error as Error).message);
      return {
        faultCode: fault.faultCode,
        faultString: fault.argsText,
        traceback: [
          "Traceback (most recent call last):\n",
          `  File "test/fakes/koji/methods.ts", in ${String(methodName)}\n`,
          `${fault.exceptionClass}: ${fault.argsText}\n`,
        ],
      };
    }
  }

  const server = createServer(
    {
      key: (options.serverCert ?? pki.server).key,
      cert: (options.serverCert ?? pki.server).cert,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        const fault =
          error instanceof HubFault
            ? error
            : new HubFault(1, `<class 'Exception'>: ${(error as Error).message}`);
        counters.faults[fault.faultCode] = (counters.faults[fault.faultCode] ?? 0) + 1;
        send(res, encodeFault(fault.faultCode, fault.faultString));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/kojihub`,
    pki,
    state,
    counters,
    clientCert: (user) => pki.client(user),
    grant: (user, cg = "osbuild") => {
      state.contentGenerators.add(cg);
      state.user(user).cgs.add(cg);
    },
    makeAdmin: (user) => {
      state.user(user).admin = true;
    },
    addTask: (id) => {
      state.tasks.add(id);
    },
    inject: {
      chunkFailures: (count, kind) => {
        faults.chunk = { count, kind };
      },
      authExpiredOnce: () => {
        faults.authExpired = true;
      },
      hiddenUploads: (count) => {
        faults.hidden = count;
      },
      importFailure: (fault) => inject("CGImport", fault),
      callFailure: inject,
      request: (match, action) => {
        injections.push({ match, action });
      },
    },
    requests,
    calls: (method) => requests.filter((r) => r.method === method),
    settings,
    latencyPeaks: () => latency.peaks(),
    expireSessions: () => {
      for (const s of state.sessions.values()) s.expired = true;
    },
    uploadedFile: (directory, name) => {
      const file = state.uploads.get(uploadDirKey(directory))?.files.get(name);
      return file ? readFileSync(file.path) : undefined;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.pki) pki.cleanup();
      rmSync(state.workDir, { recursive: true, force: true });
    },
  };
}
