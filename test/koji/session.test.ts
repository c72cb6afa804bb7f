import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  gssapiAuthenticator,
  type KerberosModule,
  kerberosLoader,
  privateCredentialCache,
  sslAuthenticator,
} from "../../src/koji/auth.js";
import { KojiClient } from "../../src/koji/client.js";
import { KojiFault } from "../../src/koji/faults.js";
import { KojiHubs } from "../../src/koji/hubs.js";
import { KojiSession } from "../../src/koji/session.js";
import { KojiTransport } from "../../src/koji/transport.js";
import { type FakeKojiHub, startFakeKojiHub } from "../fakes/koji/server.js";
import { createTestPki, type TestPki } from "../fakes/pki.js";
import { caught } from "../support/caught.js";

let pki: TestPki;
let hub: FakeKojiHub;
let user: ReturnType<TestPki["client"]>;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  pki = createTestPki();
  user = pki.client("osbuild");
  hub = await startFakeKojiHub({ pki });
  hub.grant("osbuild");
});

afterAll(async () => {
  await hub.close();
  pki.cleanup();
});

afterEach(async () => {
  hub.settings.queryAuth = false;
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function newClient(tls = { certFile: user.certFile, keyFile: user.keyFile, caFile: pki.caFile }) {
  const transport = await KojiTransport.create({ tls, timeoutMs: 5000 });
  open.push(transport);
  const session = new KojiSession({
    hubUrl: hub.url,
    transport,
    authenticator: sslAuthenticator(),
    retry: { baseDelayMs: 1 },
  });
  return new KojiClient(session);
}

function since(mark: number) {
  return hub.requests.slice(mark);
}

describe("Koji session over HTTPS", () => {
  it("logs in with the client certificate at /ssllogin, then sends session headers with rising callnums", async () => {
    const mark = hub.requests.length;
    const client = await newClient();
    const me = await client.getLoggedInUser();
    expect(me?.name).toBe("osbuild");
    expect(await client.getAPIVersion()).toBe(1);
    await client.getBuild(12345);
    const [login, ...calls] = since(mark);
    expect(login).toMatchObject({ path: "/kojihub/ssllogin", method: "sslLogin", sessionVia: "none" });
    expect(calls.map((c) => [c.path, c.sessionVia, c.callnum])).toEqual([
      ["/kojihub", "header", 0],
      ["/kojihub", "header", 1],
      ["/kojihub", "header", 2],
    ]);
    expect(calls[0]?.headers["content-type"]).toBe("text/xml");
    expect(client.session.kojiVersion).toBe("1.35.3");
  });

  it("falls back to session-id, session-key and callnum query args when the hub does not offer header auth", async () => {
    hub.settings.queryAuth = true;
    const mark = hub.requests.length;
    const client = await newClient();
    await client.getLoggedInUser();
    await client.getLoggedInUser();
    const calls = since(mark).slice(1);
    expect(calls.map((c) => [c.sessionVia, c.query.callnum])).toEqual([
      ["query", "0"],
      ["query", "1"],
    ]);
    expect(calls[0]?.headers["koji-session-id"]).toBeUndefined();
    expect(Object.keys(calls[0]?.query ?? {}).sort()).toEqual(["callnum", "session-id", "session-key"]);
  });

  it("logs in again after AuthExpired and repeats the call, with callnums starting afresh", async () => {
    const client = await newClient();
    await client.getLoggedInUser();
    hub.expireSessions();
    const mark = hub.requests.length;
    const me = await client.getLoggedInUser();
    expect(me?.name).toBe("osbuild");
    expect(client.session.loginCount).toBe(2);
    expect(since(mark).map((r) => [r.method, r.callnum])).toEqual([
      ["getLoggedInUser", 1],
      ["sslLogin", undefined],
      ["getLoggedInUser", 0],
    ]);
  });

  it("repeats a committing call after AuthExpired (the hub refused it before running it)", async () => {
    const client = await newClient();
    await client.getLoggedInUser();
    hub.expireSessions();
    const reserved = await client.CGInitBuild({ name: "img", version: "1", release: "1" });
    expect(reserved.build_id).toBeGreaterThan(0);
    expect(client.session.loginCount).toBe(2);
  });

  it("gives up when a fresh session expires at once, with a retryable KOJI_FAULT", async () => {
    const client = await newClient();
    hub.inject.request((r) => r.method === "getLoggedInUser", { fault: [1007, "session expired"] });
    hub.inject.request((r) => r.method === "getLoggedInUser", { fault: [1007, "session expired"] });
    const error = await caught(client.getLoggedInUser());
    expect(error).toBeInstanceOf(KojiFault);
    expect(error.details).toMatchObject({ faultCode: 1007, faultName: "AuthExpired" });
    expect(error.retryable).toBe(true);
  });

  it("logs in again when the hub no longer knows the session", async () => {
    const client = await newClient();
    await client.getLoggedInUser();
    hub.state.sessions.clear();
    expect((await client.getLoggedInUser())?.name).toBe("osbuild");
    expect(client.session.loginCount).toBe(2);
  });

  it("surfaces hub faults as typed errors with the hub's text", async () => {
    const client = await newClient();
    hub.inject.request((r) => r.method === "CGInitBuild", {
      fault: [1000, "Build already exists (id=1, state=COMPLETE): {'name': 'x'}"],
    });
    const error = await caught(client.CGInitBuild({ name: "x", version: "1", release: "1" }));
    expect(error.code).toBe("KOJI_FAULT");
    expect(error.retryable).toBe(false);
    expect((error as KojiFault).faultCode).toBe(1000);
    expect(error.message).toContain("Build already exists (id=1, state=COMPLETE)");
  });

  it("resends after a SequenceError with a fresh callnum", async () => {
    const client = await newClient();
    await client.getLoggedInUser();
    hub.inject.request((r) => r.method === "CGInitBuild", { fault: [1008, "5 > 1 (session 1)"] });
    const mark = hub.requests.length;
    await client.CGInitBuild({ name: "seq", version: "1", release: "1" });
    expect(since(mark).map((r) => r.callnum)).toEqual([1, 2]);
  });

  it("a RetryError (this callnum committed before): a read goes out again with a fresh callnum, a committing call is uncertain", async () => {
    const client = await newClient();
    await client.getLoggedInUser();
    hub.inject.request((r) => r.method === "getBuild", {
      fault: [1009, "unable to retry call 1 (method getBuild)"],
    });
    const mark = hub.requests.length;
    expect(await client.getBuild(999)).toBeNull();
    expect(since(mark).map((r) => r.callnum)).toEqual([1, 2]);
    hub.inject.request((r) => r.method === "CGImport", {
      fault: [1009, "unable to retry call 3 (method CGImport)"],
    });
    const error = await caught(client.CGImport("{}", "dir", "tok"));
    expect(error.code).toBe("KOJI_COMMIT_UNCERTAIN");
    expect(error.details).toMatchObject({ method: "CGImport", callnum: 3, causeCode: "KOJI_FAULT" });
    expect(since(mark).filter((r) => r.method === "CGImport")).toHaveLength(1);
  });

  it("never resends a committing call whose reply was lost; says the state must be checked", async () => {
    const client = await newClient();
    await client.getLoggedInUser();
    hub.inject.request((r) => r.method === "CGInitBuild", { dropAfter: true });
    const mark = hub.requests.length;
    const error = await caught(client.CGInitBuild({ name: "lost", version: "1", release: "1" }));
    expect(error.code).toBe("KOJI_COMMIT_UNCERTAIN");
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("check the hub's state");
    expect(error.details).toMatchObject({ method: "CGInitBuild", callnum: 1 });
    expect(since(mark).filter((r) => r.method === "CGInitBuild")).toHaveLength(1);
    // The reservation did happen: the hub's state, not a resend, is how the caller learns it.
    const reserved = since(mark)[0];
    expect(reserved?.method).toBe("CGInitBuild");
  });

  it("treats a proxy's 502 on CGImport as uncertain, and a 403 as a plain refusal", async () => {
    const client = await newClient();
    hub.inject.request((r) => r.method === "CGImport", { status: 502 });
    expect((await caught(client.CGImport("{}", "dir", "tok"))).code).toBe("KOJI_COMMIT_UNCERTAIN");
    hub.inject.request((r) => r.method === "CGImport", { status: 403 });
    const refused = await caught(client.CGImport("{}", "dir", "tok"));
    expect(refused.code).toBe("KOJI_HTTP_STATUS");
    expect(refused.retryable).toBe(false);
    expect(refused.details.status).toBe(403);
  });

  it("resends a read-only call after a dropped connection or a 503, each time with a new callnum", async () => {
    const client = await newClient();
    await client.getLoggedInUser();
    hub.inject.request((r) => r.method === "getBuild", { dropBefore: true });
    hub.inject.request((r) => r.method === "getBuild", { status: 503 });
    const mark = hub.requests.length;
    expect(await client.getBuild(999)).toBeNull();
    expect(since(mark).map((r) => r.callnum)).toEqual([1, 2, 3]);
  });

  it("a call may be given longer than the transport's timeout (CGImport reads every output first)", async () => {
    const transport = await KojiTransport.create({
      tls: { certFile: user.certFile, keyFile: user.keyFile, caFile: pki.caFile },
      timeoutMs: 200,
    });
    open.push(transport);
    const session = new KojiSession({ hubUrl: hub.url, transport, authenticator: sslAuthenticator() });
    await session.call("getAPIVersion");
    // undici checks its timeouts about once a second: the delay is well beyond that.
    hub.inject.request((r) => r.method === "getAPIVersion", { delayMs: 2_000 });
    expect(await session.call("getAPIVersion", [], { timeoutMs: 5_000 })).toBe(1);
    hub.inject.request((r) => r.method === "getAPIVersion", { delayMs: 2_000 });
    await expect(session.call("getAPIVersion", [], { retries: 0 })).rejects.toThrow(/timeout|Timeout/);
  });

  it("tries the login again after a dropped connection or a 503, as any other call", async () => {
    const client = await newClient();
    hub.inject.request((r) => r.method === "sslLogin", { dropBefore: true });
    hub.inject.request((r) => r.method === "sslLogin", { status: 503 });
    const mark = hub.requests.length;
    expect((await client.getLoggedInUser())?.name).toBe("osbuild");
    expect(since(mark).map((r) => r.method)).toEqual(["sslLogin", "sslLogin", "sslLogin", "getLoggedInUser"]);
  });

  it("refunds a reservation", async () => {
    const client = await newClient();
    const { build_id, token } = await client.CGInitBuild({ name: "refund", version: "1", release: "1" });
    expect((await client.getBuild(build_id))?.state).toBe(0);
    await client.CGRefundBuild(build_id, token, "FAILED");
    expect((await client.getBuild(build_id))?.state).toBe(3);
    const refund = hub.calls("CGRefundBuild").at(-1);
    expect(refund?.params).toEqual(["osbuild", build_id, token, 3]);
    // Koji cancels only a BUILDING build; a refunded one is left as it is.
    expect(await client.cancelBuild(build_id)).toBe(false);
    const other = await client.CGInitBuild({ name: "refund", version: "1", release: "2" });
    expect(await client.cancelBuild(other.build_id)).toBe(true);
  });

  it("names the field when a reply does not have the expected shape", async () => {
    const client = await newClient();
    hub.inject.request((r) => r.method === "CGInitBuild", { reply: { build_id: "seven", token: "t" } });
    const error = await caught(client.CGInitBuild({ name: "bad", version: "1", release: "1" }));
    expect(error.code).toBe("KOJI_INVALID_RESPONSE");
    expect(error.message).toContain("build_id");
  });

  it("sends listArchives and checkUpload keyword arguments the way Koji's client does", async () => {
    const client = await newClient();
    hub.inject.request((r) => r.method === "listArchives", { reply: [] });
    expect(await client.listArchives({ buildID: 7 })).toEqual([]);
    expect(hub.calls("listArchives").at(-1)?.params).toEqual([{ buildID: 7, __starstar: true }]);
    expect(await client.checkUpload("no/such", "file", "adler32")).toBeNull();
    expect(hub.calls("checkUpload").at(-1)?.params).toEqual([
      "no/such",
      "file",
      { verify: "adler32", __starstar: true },
    ]);
  });

  it("refuses a login without a client certificate with the hub's AuthError", async () => {
    const client = await newClient({ caFile: pki.caFile } as never);
    const error = await caught(client.getLoggedInUser());
    expect(error).toBeInstanceOf(KojiFault);
    expect((error as KojiFault).faultCode).toBe(1002);
    expect(error.retryable).toBe(false);
  });

  it("refuses a hub whose certificate the CA did not sign, permanently", async () => {
    const other = createTestPki();
    try {
      const client = await newClient({
        certFile: user.certFile,
        keyFile: user.keyFile,
        caFile: other.caFile,
      });
      const error = await caught(client.getLoggedInUser());
      expect(error.code).toBe("KOJI_TLS");
      expect(error.retryable).toBe(false);
    } finally {
      other.cleanup();
    }
  });

  it("names a missing certificate file", async () => {
    const error = await caught(KojiTransport.create({ tls: { certFile: "/nonexistent/cert.pem" } }));
    expect(error.code).toBe("KOJI_TLS_FILES");
    expect(error.message).toContain("/nonexistent/cert.pem");
  });

  it("reports an unreachable hub as retryable and not sent", async () => {
    const transport = await KojiTransport.create({ timeoutMs: 2000 });
    open.push(transport);
    const session = new KojiSession({
      hubUrl: "https://127.0.0.1:1/kojihub",
      transport,
      authenticator: sslAuthenticator(),
    });
    const error = await caught(session.login());
    expect(error.code).toBe("KOJI_UNREACHABLE");
    expect(error.retryable).toBe(true);
    expect(error.details.sent).toBe(false);
  });
});

/** What Apache with mod_auth_gssapi answers a ticket it does not accept (captured from the real hub on :18445). */
const APACHE_401_PAGE = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html><head>
<title>401 Unauthorized</title>
</head><body>
<h1>Unauthorized</h1>
<p>This server could not verify that you
are authorized to access the document
requested.  Either you supplied the wrong
credentials (e.g., bad password), or your
browser doesn't understand how to supply
the credentials required.</p>
</body></html>
`;

/** A stand-in for the `kerberos` package that records the environment each ticket request ran with. */
function fakeKerberos(
  seen: { service: string; principal?: string; env: Record<string, string | undefined> }[],
) {
  let inFlight = 0;
  const module: KerberosModule = {
    GSS_MECH_OID_SPNEGO: "spnego",
    initializeClient: async (service, options) => {
      inFlight++;
      const entry = {
        service,
        ...(options.principal !== undefined ? { principal: options.principal } : {}),
        env: { KRB5_CLIENT_KTNAME: process.env.KRB5_CLIENT_KTNAME, KRB5CCNAME: process.env.KRB5CCNAME },
      };
      seen.push(entry);
      return {
        step: async () => {
          // Another request running now would have changed the environment under this one.
          expect(inFlight).toBe(1);
          await new Promise((r) => setTimeout(r, 5));
          expect(process.env.KRB5_CLIENT_KTNAME).toBe(entry.env.KRB5_CLIENT_KTNAME);
          inFlight--;
          return Buffer.from(`token for ${options.principal}`).toString("base64");
        },
      };
    },
  };
  return async () => module;
}

async function withoutKerberosEnvironment(work: () => Promise<void>): Promise<void> {
  const saved = { KRB5_CLIENT_KTNAME: process.env.KRB5_CLIENT_KTNAME, KRB5CCNAME: process.env.KRB5CCNAME };
  delete process.env.KRB5_CLIENT_KTNAME;
  delete process.env.KRB5CCNAME;
  try {
    await work();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe("GSSAPI", () => {
  it("says clearly that the optional kerberos package is missing", async () => {
    const notInstalled = kerberosLoader(async (specifier) => {
      throw Object.assign(
        new Error(`Cannot find package '${specifier}' imported from /app/dist/koji/auth.js`),
        {
          code: "ERR_MODULE_NOT_FOUND",
        },
      );
    });
    const auth = gssapiAuthenticator({
      principal: "osbuild@EXAMPLE.ORG",
      keytabFile: "/etc/koji.keytab",
      load: notInstalled,
    });
    const error = await caught(auth.loginHeaders(new URL("https://koji.example.org/kojihub")));
    expect(error.code).toBe("KOJI_GSSAPI_UNAVAILABLE");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("optional 'kerberos' npm package");
    expect(error.message).toContain("Cannot find package 'kerberos'");
  });

  it("says so when the kerberos package has another API", async () => {
    const other = kerberosLoader(async () => ({ default: { version: "0.0.1" } }));
    expect((await caught(other())).code).toBe("KOJI_GSSAPI_UNAVAILABLE");
  });

  it("builds the SPNEGO header with the hub's keytab and a private cache, set only while it asks", async () => {
    await withoutKerberosEnvironment(async () => {
      const seen: Parameters<typeof fakeKerberos>[0] = [];
      const auth = gssapiAuthenticator({
        principal: "osbuild@EXAMPLE.ORG",
        keytabFile: "/etc/koji.keytab",
        load: fakeKerberos(seen),
      });
      expect(await auth.loginHeaders(new URL("https://koji.example.org/kojihub"))).toEqual({
        Authorization: `Negotiate ${Buffer.from("token for osbuild@EXAMPLE.ORG").toString("base64")}`,
      });
      expect(seen).toEqual([
        {
          service: "HTTP@koji.example.org",
          principal: "osbuild@EXAMPLE.ORG",
          env: {
            KRB5_CLIENT_KTNAME: "/etc/koji.keytab",
            KRB5CCNAME: privateCredentialCache("osbuild@EXAMPLE.ORG"),
          },
        },
      ]);
      expect(privateCredentialCache("osbuild@EXAMPLE.ORG")).toMatch(/^MEMORY:/);
      expect(process.env.KRB5_CLIENT_KTNAME).toBeUndefined();
      expect(process.env.KRB5CCNAME).toBeUndefined();
    });
  });

  it("keeps the credential cache the operator chose with KRB5CCNAME", async () => {
    await withoutKerberosEnvironment(async () => {
      process.env.KRB5CCNAME = "FILE:/var/run/importer/ccache";
      const seen: Parameters<typeof fakeKerberos>[0] = [];
      const auth = gssapiAuthenticator({
        principal: "osbuild@EXAMPLE.ORG",
        keytabFile: "/etc/koji.keytab",
        load: fakeKerberos(seen),
      });
      await auth.loginHeaders(new URL("https://koji.example.org/kojihub"));
      expect(seen[0]?.env.KRB5CCNAME).toBe("FILE:/var/run/importer/ccache");
      expect(process.env.KRB5CCNAME).toBe("FILE:/var/run/importer/ccache");
    });
  });

  it("asks for one ticket at a time, so two hubs with their own keytabs and principals share a process", async () => {
    await withoutKerberosEnvironment(async () => {
      const seen: Parameters<typeof fakeKerberos>[0] = [];
      const load = fakeKerberos(seen);
      const a = gssapiAuthenticator({ principal: "osbuild@A.ORG", keytabFile: "/a.keytab", load });
      const b = gssapiAuthenticator({ principal: "importer/svc@B.ORG", keytabFile: "/b.keytab", load });
      const headers = await Promise.all([
        a.loginHeaders(new URL("https://koji.a.org/kojihub")),
        b.loginHeaders(new URL("https://koji.b.org/kojihub")),
        a.loginHeaders(new URL("https://koji.a.org/kojihub")),
      ]);
      expect(headers.map((h) => Buffer.from(String(h.Authorization).slice(10), "base64").toString())).toEqual(
        ["token for osbuild@A.ORG", "token for importer/svc@B.ORG", "token for osbuild@A.ORG"],
      );
      expect(seen.map((s) => [s.principal, s.env.KRB5_CLIENT_KTNAME, s.env.KRB5CCNAME])).toEqual([
        ["osbuild@A.ORG", "/a.keytab", privateCredentialCache("osbuild@A.ORG")],
        ["importer/svc@B.ORG", "/b.keytab", privateCredentialCache("importer/svc@B.ORG")],
        ["osbuild@A.ORG", "/a.keytab", privateCredentialCache("osbuild@A.ORG")],
      ]);
    });
  });

  it("a hub that refuses the ticket (401, Apache's page) is a permanent error naming the principal and hub", async () => {
    await withoutKerberosEnvironment(async () => {
      const transport = await KojiTransport.create({ tls: { caFile: pki.caFile }, timeoutMs: 5000 });
      open.push(transport);
      const session = new KojiSession({
        hubUrl: hub.url,
        transport,
        authenticator: gssapiAuthenticator({
          principal: "osbuild@EXAMPLE.ORG",
          keytabFile: "/etc/koji.keytab",
          load: fakeKerberos([]),
        }),
        retry: { baseDelayMs: 1 },
      });
      const mark = hub.requests.length;
      hub.inject.request((r) => r.method === "sslLogin", { status: 401, body: APACHE_401_PAGE });
      const error = await caught(new KojiClient(session).getLoggedInUser());
      expect(error.code).toBe("KOJI_GSSAPI_REFUSED");
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(
        `Koji hub ${hub.url} refused the Kerberos login of osbuild@EXAMPLE.ORG`,
      );
      expect(error.message).not.toContain("<html>");
      expect(since(mark).map((r) => r.method)).toEqual(["sslLogin"]);
    });
  });
});

describe("KojiHubs", () => {
  it("refuses an unknown hub, reuses one session per hub, and logs out on close", async () => {
    const hubs = new KojiHubs({
      hubs: [
        {
          url: `${hub.url}/`,
          auth: "ssl",
          cert_file: user.certFile,
          key_file: user.keyFile,
          ca_file: pki.caFile,
        },
      ],
      cgName: "osbuild-test",
      timeoutMs: 5000,
    });
    const unknown = await caught(hubs.client("https://other.example.org/kojihub"));
    expect(unknown.code).toBe("KOJI_UNKNOWN_HUB");
    expect(unknown.retryable).toBe(false);
    expect(unknown.message).toContain("https://other.example.org/kojihub");

    const a = await hubs.client(hub.url);
    const b = await hubs.client(`${hub.url}/`);
    expect(a).toBe(b);
    expect(a.cgName).toBe("osbuild-test");
    await a.getLoggedInUser();
    await b.getLoggedInUser();
    expect(a.session.loginCount).toBe(1);
    const sessionsBefore = hub.state.sessions.size;
    await hubs.close();
    expect(hub.state.sessions.size).toBe(sessionsBefore - 1);
    expect((await caught(hubs.client(hub.url))).code).toBe("KOJI_CLOSED");
  });
});
