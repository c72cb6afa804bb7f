import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  decodeCall,
  encodeFault,
  encodeResponse,
  type XmlRpcDecoded,
  type XmlRpcValue,
} from "../../../src/koji/xmlrpc/index.js";
import { adler32Hex } from "../../fakes/adler32.js";
import type { Pem } from "../../fakes/pki.js";

/**
 * A tiny HTTPS hub for the client's own tests: just enough Koji session rules (client-certificate login, session
 * headers or query args, callnum recorded only by committing calls, expiry) and raw uploads to exercise the client,
 * plus one-shot fault injection. The faithful fake hub lives in test/fakes/koji; this one stays small on purpose.
 */

export interface RecordedRequest {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  method: string;
  params: XmlRpcDecoded[];
  bodyLength: number;
  sessionVia: "header" | "query" | "none";
  callnum: number | undefined;
}

export type Injection =
  | { fault: [number, string] }
  /** Answer this HTTP status with `body` (an HTML page, as a front end would) instead of reaching the hub. */
  | { status: number; body?: string }
  /** Close the connection without an answer, after the method ran (as if the reply got lost). */
  | { dropAfter: true }
  /** Close the connection without an answer before running anything. */
  | { dropBefore: true }
  | { wrongDigest: true }
  | { delayMs: number }
  /** Answer this value instead of running the method. */
  | { reply: XmlRpcValue };

interface Session {
  id: number;
  key: string;
  user: string;
  lastCommitted: number | undefined;
  expired: boolean;
}

const COMMITTING = new Set(["CGInitBuild", "CGImport", "CGRefundBuild", "cancelBuild"]);

class Fault extends Error {
  constructor(
    readonly code: number,
    text: string,
  ) {
    super(text);
  }
}

export class MiniHub {
  readonly requests: RecordedRequest[] = [];
  readonly files = new Map<string, Buffer>();
  readonly sessions = new Map<number, Session>();
  /** What sslLogin answers for header-auth (false = an old hub: session in query args). */
  headerAuth = true;
  private nextSession = 1;
  private nextBuild = 1;
  private readonly builds = new Map<number, Record<string, XmlRpcValue>>();
  private injections: { match: (r: RecordedRequest) => boolean; action: Injection }[] = [];
  private server: Server | undefined;
  url = "";

  constructor(private readonly tls: { server: Pem; ca: string }) {}

  async start(): Promise<string> {
    this.server = createServer(
      {
        cert: this.tls.server.cert,
        key: this.tls.server.key,
        ca: this.tls.ca,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          void this.handle(req.url ?? "/", req.headers, Buffer.concat(chunks), req.socket as TLSSocket).then(
            (answer) => {
              if (answer === "drop") {
                req.socket.destroy();
                return;
              }
              res.writeHead(answer.status, { "Content-Type": "text/xml", "Koji-Version": "1.35.3" });
              res.end(answer.body);
            },
          );
        });
      },
    );
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/kojihub`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The next request matching `match` gets `action` instead of (or besides) normal handling. */
  inject(match: (r: RecordedRequest) => boolean, action: Injection): void {
    this.injections.push({ match, action });
  }

  expireSessions(): void {
    for (const s of this.sessions.values()) s.expired = true;
  }

  calls(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  private async handle(
    rawUrl: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
    socket: TLSSocket,
  ): Promise<{ status: number; body: string } | "drop"> {
    const url = new URL(rawUrl, "https://hub");
    const query = Object.fromEntries(url.searchParams);
    const isUpload = headers["content-type"] === "application/octet-stream";
    const call = isUpload ? { methodName: "rawUpload", params: [] } : decodeCall(body);
    const sessionVia = headers["koji-session-id"] ? "header" : query["session-id"] ? "query" : "none";
    const callnumText = sessionVia === "header" ? headers["koji-session-callnum"] : query.callnum;
    const record: RecordedRequest = {
      path: url.pathname,
      query,
      headers,
      method: call.methodName,
      params: call.params,
      bodyLength: body.length,
      sessionVia,
      callnum: typeof callnumText === "string" ? Number(callnumText) : undefined,
    };
    this.requests.push(record);
    const index = this.injections.findIndex((i) => i.match(record));
    const action = index >= 0 ? this.injections.splice(index, 1)[0]?.action : undefined;
    if (action && "dropBefore" in action) return "drop";
    if (action && "status" in action) {
      return { status: action.status, body: action.body ?? "<html>proxy error</html>" };
    }
    if (action && "delayMs" in action) await new Promise((r) => setTimeout(r, action.delayMs));
    if (action && "fault" in action) return { status: 200, body: encodeFault(...action.fault) };
    if (action && "reply" in action) return { status: 200, body: encodeResponse(action.reply) };
    try {
      const value = this.dispatch(record, body, socket, action);
      if (action && "dropAfter" in action) return "drop";
      return { status: 200, body: encodeResponse(value) };
    } catch (e) {
      if (e instanceof Fault) return { status: 200, body: encodeFault(e.code, e.message) };
      return { status: 200, body: encodeFault(1, `<class 'Exception'>: ${(e as Error).message}`) };
    }
  }

  private authenticate(r: RecordedRequest): Session {
    const id = Number(r.sessionVia === "header" ? r.headers["koji-session-id"] : r.query["session-id"]);
    const key = r.sessionVia === "header" ? r.headers["koji-session-key"] : r.query["session-key"];
    const session = this.sessions.get(id);
    if (!session || session.key !== key) throw new Fault(1002, "Invalid session or bad credentials");
    if (session.expired) throw new Fault(1007, `session "${id}" has expired`);
    if (r.callnum !== undefined && session.lastCommitted !== undefined) {
      if (session.lastCommitted > r.callnum) throw new Fault(1008, `${session.lastCommitted} > ${r.callnum}`);
      if (session.lastCommitted === r.callnum) throw new Fault(1009, `unable to retry call ${r.callnum}`);
    }
    return session;
  }

  private dispatch(
    r: RecordedRequest,
    body: Buffer,
    socket: TLSSocket,
    action: Injection | undefined,
  ): XmlRpcValue {
    if (r.method === "sslLogin") {
      if (r.path !== "/kojihub/ssllogin") throw new Fault(1002, "sslLogin must go to /ssllogin");
      if (r.sessionVia !== "none") throw new Fault(1002, "Already logged in");
      const peer = socket.getPeerCertificate();
      if (!socket.authorized || !peer.subject) throw new Fault(1002, "could not verify client: NONE");
      const id = this.nextSession++;
      const key = `${id}-${randomBytes(8).toString("hex")}`;
      this.sessions.set(id, {
        id,
        key,
        user: String(peer.subject.CN),
        lastCommitted: undefined,
        expired: false,
      });
      return { "session-id": id, "session-key": key, "header-auth": this.headerAuth };
    }
    if (r.method === "getAPIVersion") return 1;
    const session = this.authenticate(r);
    const result = this.method(r, body, session, action);
    if (COMMITTING.has(r.method) && r.callnum !== undefined) session.lastCommitted = r.callnum;
    return result;
  }

  private method(
    r: RecordedRequest,
    body: Buffer,
    session: Session,
    action: Injection | undefined,
  ): XmlRpcValue {
    const p = r.params;
    switch (r.method) {
      case "getLoggedInUser":
        return {
          id: 2,
          name: session.user,
          status: 0,
          usertype: 0,
          authtype: 2,
          krb_principals: [],
          krb_principal: null,
        };
      case "logout":
        this.sessions.delete(session.id);
        return null;
      case "CGInitBuild": {
        const data = p[1] as Record<string, string>;
        const id = this.nextBuild++;
        const token = randomBytes(32).toString("hex");
        this.builds.set(id, { ...data, id, token, state: 0 });
        return { build_id: id, token };
      }
      case "CGRefundBuild": {
        const build = this.builds.get(p[1] as number);
        if (!build || build.token !== p[2]) throw new Fault(1000, "Token doesn't match build ID");
        build.state = p[3] as number;
        return null;
      }
      case "cancelBuild": {
        const build = this.builds.get(p[0] as number);
        if (!build) return false;
        build.state = 4;
        return true;
      }
      case "getBuild": {
        const build = typeof p[0] === "number" ? this.builds.get(p[0]) : undefined;
        if (!build) return null;
        return {
          id: build.id as number,
          name: build.name as string,
          version: build.version as string,
          release: build.release as string,
          nvr: `${build.name}-${build.version}-${build.release}`,
          state: build.state as number,
          extra: null,
        };
      }
      case "checkUpload": {
        const file = this.files.get(`${p[0]}/${p[1]}`);
        if (!file) return null;
        const kw = p[2] as { verify?: string } | undefined;
        return {
          size: file.length,
          mtime: 1795483696.419112,
          ...(kw?.verify === "adler32" ? { sumlength: file.length, hexdigest: adler32Hex(file) } : {}),
        };
      }
      case "rawUpload": {
        const path = `${r.query.filepath}/${r.query.filename}`;
        const offset = Number(r.query.offset);
        const existing = this.files.get(path) ?? Buffer.alloc(0);
        if (offset === 0 && existing.length > 0 && !r.query.overwrite)
          throw new Fault(1000, "upload path exists");
        const kept = r.query.overwrite ? existing.subarray(0, offset) : existing;
        const padded =
          kept.length < offset ? Buffer.concat([kept, Buffer.alloc(offset - kept.length)]) : kept;
        this.files.set(path, Buffer.concat([padded.subarray(0, offset), body]));
        const digest = adler32Hex(body);
        return {
          size: body.length,
          fileverify: r.query.fileverify ?? "",
          offset,
          hexdigest: action && "wrongDigest" in action ? "deadbeef" : digest,
        };
      }
      default:
        throw new Fault(1000, `Invalid method: ${r.method}`);
    }
  }
}
