import { request } from "node:https";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KojiHubs } from "../../src/koji/hubs.js";
import { type FakeKojiHub, startFakeKojiHub } from "../fakes/koji/server.js";

let hub: FakeKojiHub;

beforeAll(async () => {
  // Koji's documented httpd layout: the client certificate asked only under /kojihub/ssllogin.
  hub = await startFakeKojiHub({ loginLayout: "documented" });
  hub.grant("osbuild");
});

afterAll(async () => {
  await hub.close();
});

/** A login POST from Node's own TLS client, TLS 1.3 allowed, as the importer made it before. */
function plainLogin(): Promise<{ status: number; body: string }> {
  const cert = hub.clientCert("osbuild");
  const url = new URL(`${hub.url}/ssllogin`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        ca: hub.pki.ca.cert,
        cert: cert.cert,
        key: cert.key,
        headers: { "Content-Type": "text/xml" },
      },
      (res) => {
        let body = "";
        res.on("data", (part: Buffer) => {
          body += part.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end("<?xml version='1.0'?><methodCall><methodName>sslLogin</methodName><params/></methodCall>");
  });
}

function hubsFor(user: { certFile: string; keyFile: string }, lines?: Array<Record<string, string>>) {
  const logger = pino({ level: "info" }, { write: (line: string) => void lines?.push(JSON.parse(line)) });
  return new KojiHubs({
    hubs: [
      {
        url: hub.url,
        auth: "ssl",
        cert_file: user.certFile,
        key_file: user.keyFile,
        ca_file: hub.pki.caFile,
      },
    ],
    logger,
  });
}

describe("sslLogin on Koji's documented layout (certificate only under /kojihub/ssllogin)", () => {
  it("refuses Node's TLS 1.3 login as Apache does: 403, Cannot perform Post-Handshake Authentication", async () => {
    const reply = await plainLogin();
    expect(reply.status).toBe(403);
    expect(reply.body).toContain("Cannot perform Post-Handshake Authentication");
  });

  it("the importer logs in anyway, over TLS 1.2 for the login only, and says so once per hub", async () => {
    const lines: Array<Record<string, string>> = [];
    const hubs = hubsFor(hub.clientCert("osbuild"), lines);
    try {
      const refusals = hub.counters.loginRefusals;
      const client = await hubs.client(hub.url);
      expect((await client.getLoggedInUser())?.name).toBe("osbuild");
      // Calls at once need sessions of their own: more logins, straight over TLS 1.2 after the first refusal.
      const users = await Promise.all([1, 2, 3].map(() => client.getLoggedInUser()));
      expect(users.map((u) => u?.name)).toEqual(["osbuild", "osbuild", "osbuild"]);
      expect(hub.state.sessions.size).toBeGreaterThanOrEqual(3);
      expect(hub.counters.loginRefusals - refusals).toBe(1);
      const said = lines.filter((line) => line.msg?.includes("TLS 1.2"));
      expect(said).toHaveLength(1);
      // The hub's own words, from its 403 page.
      expect(said[0]?.refusal).toBe(
        `Koji hub ${hub.url}/ssllogin: HTTP 403: Forbidden You don't have permission to access this resource.` +
          "Reason: Cannot perform Post-Handshake Authentication.",
      );
    } finally {
      await hubs.close();
    }
  });
});
