import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sslAuthenticator } from "../../src/koji/auth.js";
import type { KojiFault } from "../../src/koji/faults.js";
import { KojiHubs } from "../../src/koji/hubs.js";
import { KojiTransport } from "../../src/koji/transport.js";
import { uploadDirectory, uploadFile } from "../fakes/composer-worker/upload.js";
import { UploadClient, UploadingKojiSession } from "../fakes/composer-worker/upload-client.js";
import { type FakeKojiHub, startFakeKojiHub } from "../fakes/koji/server.js";
import { caught } from "../support/caught.js";

/**
 * The client against the faithful fake hub (test/fakes/koji) over real HTTPS: what the hub enforces, the client
 * must get right. The fake's own rules are tested by its author in test/koji/fake-hub*.test.ts.
 */

let hub: FakeKojiHub;
let queryHub: FakeKojiHub;
const open: KojiTransport[] = [];
let dirs = 0;

beforeAll(async () => {
  [hub, queryHub] = await Promise.all([startFakeKojiHub(), startFakeKojiHub({ queryAuth: true })]);
  for (const target of [hub, queryHub]) target.grant("osbuild");
});

afterAll(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await Promise.all([hub.close(), queryHub.close()]);
});

afterEach(() => {
  hub.state.sessionLifetimeMs = Number.POSITIVE_INFINITY;
});

async function clientFor(target: FakeKojiHub, user = "osbuild"): Promise<UploadClient> {
  const cert = target.clientCert(user);
  const transport = await KojiTransport.create({
    tls: { certFile: cert.certFile, keyFile: cert.keyFile, caFile: target.pki.caFile },
    timeoutMs: 10_000,
  });
  open.push(transport);
  return new UploadClient(
    new UploadingKojiSession({ hubUrl: target.url, transport, authenticator: sslAuthenticator() }),
  );
}

function hubFile(target: FakeKojiHub, directory: string, name: string): Buffer | undefined {
  const file = target.state.uploads.get(directory)?.files.get(name);
  return file ? readFileSync(file.path) : undefined;
}

function pieces(data: Buffer, size = 4096): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) parts.push(data.subarray(at, at + size));
  return Readable.from(parts);
}

const freshDir = () => `client-test/${process.pid}.${++dirs}`;

/** The latest session the hub opened for `user`. */
function lastSession(target: FakeKojiHub, user = "osbuild") {
  return [...target.state.sessions.values()].filter((s) => s.user.name === user).at(-1);
}

describe("client against the fake hub", () => {
  it("logs in by certificate, the CN being the user, and reads the hub's version", async () => {
    const client = await clientFor(hub);
    expect((await client.getLoggedInUser())?.name).toBe("osbuild");
    expect(await client.getAPIVersion()).toBe(1);
    expect(client.session.kojiVersion).toBe("1.35.3");
    expect(hub.counters.calls.sslLogin).toBeGreaterThanOrEqual(1);
  });

  it("numbers calls from 0: a hub that checks callnums records the committing call's", async () => {
    const client = await clientFor(hub);
    await client.getLoggedInUser(); // callnum 0
    await client.getBuild(1); // callnum 1
    await client.CGInitBuild({ name: "callnum-test", version: "1", release: "1" }); // callnum 2
    expect(lastSession(hub)?.lastCommittedCallnum).toBe(2);
  });

  it("works with a hub that wants the session in query arguments", async () => {
    const client = await clientFor(queryHub);
    const { build_id } = await client.CGInitBuild({ name: "query-auth", version: "1", release: "1" });
    expect((await client.getBuild(build_id))?.state).toBe(0);
    expect(lastSession(queryHub)?.lastCommittedCallnum).toBe(0);
  });

  it("logs in again after AuthExpired (injected, and by session lifetime)", async () => {
    const client = await clientFor(hub);
    await client.getLoggedInUser();
    hub.inject.authExpiredOnce();
    expect((await client.getLoggedInUser())?.name).toBe("osbuild");
    expect(client.session.loginCount).toBe(2);
    // The hub's renewal timeout: the session outlives it, the fresh one made by the re-login does not.
    hub.state.sessionLifetimeMs = 400;
    await new Promise((r) => setTimeout(r, 450));
    expect((await client.getLoggedInUser())?.name).toBe("osbuild");
    expect(client.session.loginCount).toBe(3);
  });

  it("sessions logged in together expire together: every call still gets through, on fresh logins", async () => {
    const client = await clientFor(hub);
    const burst = () => Promise.all(Array.from({ length: 32 }, (_, i) => client.getBuild(i + 1)));
    await burst();
    const pooled = client.session.sessionCount;
    expect(pooled).toBeGreaterThan(1);
    hub.state.sessionLifetimeMs = 300;
    await new Promise((r) => setTimeout(r, 350));
    const expiredBefore = hub.counters.faults[1007] ?? 0;
    // One call at a time: each renewal finds the pool's other sessions idle, and just as dead.
    for (let i = 0; i < 4; i++) expect((await client.getLoggedInUser())?.name).toBe("osbuild");
    await burst();
    expect((hub.counters.faults[1007] ?? 0) - expiredBefore).toBeGreaterThanOrEqual(pooled);
  });

  it("refunds a reservation, and the NVR can then be reserved again", async () => {
    const client = await clientFor(hub);
    const nvr = { name: "refund-me", version: "1.0", release: "1" };
    const first = await client.CGInitBuild(nvr);
    const again = await caught(client.CGInitBuild(nvr));
    expect((again as KojiFault).faultCode).toBe(1000);
    expect(again.message).toContain("Build is already reserved");
    await client.CGRefundBuild(first.build_id, first.token, "FAILED");
    expect((await client.getBuild(first.build_id))?.state).toBe(3);
    const second = await client.CGInitBuild(nvr);
    expect(second.build_id).toBeGreaterThan(0);
    expect(await client.cancelBuild(second.build_id)).toBe(true);
    expect((await client.getBuild(second.build_id))?.state).toBe(4);
  });

  it("concurrent imports' calls go out on sessions of their own: the hub never sees one overtake another", async () => {
    // One session shared by all calls used to have its calls arrive out of callnum order on parallel connections;
    // a hub that checks callnums refuses a call below the session's last committing one (SequenceError).
    const client = await clientFor(hub);
    const faultsBefore = hub.counters.faults[1008] ?? 0;
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const nvr = { name: `concurrent-${process.pid}`, version: "1.0", release: String(i) };
        const reserved = await client.CGInitBuild(nvr);
        expect((await client.getBuild(reserved.build_id))?.state).toBe(0);
        await client.CGRefundBuild(reserved.build_id, reserved.token, "FAILED");
      }),
    );
    expect(hub.counters.faults[1008] ?? 0).toBe(faultsBefore);
    expect(client.session.sessionCount).toBeGreaterThan(1);
    expect(client.session.sessionCount).toBeLessThanOrEqual(8);
    expect(client.session.loginCount).toBe(client.session.sessionCount);
  });

  it("surfaces the hub's refusals with their text and code", async () => {
    const client = await clientFor(hub);
    const dash = await caught(client.CGInitBuild({ name: "x", version: "1-2", release: "1" }));
    expect(dash.message).toContain('The "-" character not allowed in version field');
    expect(dash.retryable).toBe(false);
    const stranger = await clientFor(hub, "stranger");
    const denied = await caught(stranger.CGInitBuild({ name: "x", version: "1", release: "1" }));
    expect((denied as KojiFault).faultCode).toBe(1002);
    expect(denied.message).toContain("Content generator access required (osbuild)");
    const noVersion = await caught(client.CGImport(JSON.stringify({ build: {} }), freshDir(), "t"));
    expect((noVersion as KojiFault).faultCode).toBe(1);
    expect(noVersion.message).toContain("<class 'KeyError'>: 'metadata_version'");
  });

  it("lists the registered archive types", async () => {
    const client = await clientFor(hub);
    const types = await client.getArchiveTypes();
    expect(types.find((t) => t.name === "qcow2")?.extensions).toBe("qcow2");
  });
});

describe("uploads to the fake hub", () => {
  it.each([
    ["0 bytes", 0],
    ["1 byte", 1],
    ["exactly one chunk", 4096],
    ["many chunks", 10 * 4096 + 123],
  ])("%s", async (_name, size) => {
    const client = await clientFor(hub);
    const data = randomBytes(size);
    const directory = freshDir();
    const result = await uploadFile(client, {
      directory,
      filename: "disk.qcow2",
      source: pieces(data, 1000),
      chunkBytes: 4096,
    });
    expect(hubFile(hub, directory, "disk.qcow2")).toEqual(data);
    expect(result.size).toBe(size);
    expect(result.checksum).toBe(createHash("md5").update(data).digest("hex"));
    const check = await client.checkUpload(directory, "disk.qcow2", "md5");
    expect(check?.hexdigest).toBe(result.checksum);
  });

  it.each(["http500", "lock"] as const)("resends chunks after injected %s failures", async (kind) => {
    const client = await clientFor(hub);
    const data = randomBytes(5 * 4096);
    const directory = freshDir();
    const chunksBefore = hub.counters.uploadChunks;
    await uploadFile(client, {
      directory,
      filename: "a.raw",
      source: pieces(data),
      chunkBytes: 4096,
      retry: { baseDelayMs: 1 },
    });
    hub.inject.chunkFailures(2, kind);
    const result = await uploadFile(client, {
      directory,
      filename: "b.raw",
      source: pieces(data),
      chunkBytes: 4096,
      retry: { baseDelayMs: 1 },
    });
    expect(result.resends).toBe(1);
    expect(hub.counters.uploadChunks - chunksBefore).toBe(5 + 5 + 2);
    expect(hubFile(hub, directory, "b.raw")).toEqual(data);
  });

  it("runs a whole import: reserve, upload, CGImport, then the hub has the build and its archives", async () => {
    const client = await clientFor(hub);
    const image = randomBytes(3 * 4096 + 11);
    const log = Buffer.from("osbuild log line\n");
    const nvr = { name: "osbuild-test-image", version: "1.0", release: String(Date.now()) };
    const { build_id, token } = await client.CGInitBuild(nvr);
    const directory = freshDir();
    const filename = `${nvr.name}-${nvr.version}-${nvr.release}.x86_64.qcow2`;
    const [imageResult, logResult] = await uploadDirectory(client, {
      directory,
      chunkBytes: 4096,
      files: [
        { filename, open: () => pieces(image) },
        { filename: "osbuild.log", open: () => pieces(log) },
      ],
    });
    const metadata = {
      metadata_version: 0,
      build: {
        ...nvr,
        source: "https://example.com/osbuild-test.git#deadbeef",
        start_time: 1795483636,
        end_time: 1795483696,
        build_id,
        owner: "osbuild",
        extra: { typeinfo: { image: {} } },
      },
      buildroots: [
        {
          id: 1,
          host: { os: "Debian-12", arch: "x86_64" },
          content_generator: { name: "osbuild", version: "0.1" },
          container: { type: "none", arch: "x86_64" },
          tools: [],
          components: [],
          extra: {},
        },
      ],
      output: [
        {
          buildroot_id: 1,
          filename,
          filesize: imageResult?.size,
          arch: "x86_64",
          checksum_type: "md5",
          checksum: imageResult?.checksum,
          type: "qcow2",
          components: [],
          extra: { image: { arch: "x86_64" } },
        },
        {
          buildroot_id: 1,
          filename: "osbuild.log",
          filesize: logResult?.size,
          arch: "noarch",
          checksum_type: "md5",
          checksum: logResult?.checksum,
          type: "log",
        },
      ],
    };
    const build = await client.CGImport(JSON.stringify(metadata), directory, token);
    expect(build).toMatchObject({ id: build_id, state: 1, nvr: `${nvr.name}-${nvr.version}-${nvr.release}` });
    expect((await client.getBuild(build_id))?.state).toBe(1);
    const archives = await client.listArchives({ buildID: build_id });
    expect(archives.map((a) => [a.filename, a.btype, a.size])).toEqual([[filename, "image", image.length]]);
  });

  it("never resends a CGImport whose reply was lost; the hub's state tells what happened", async () => {
    const client = await clientFor(hub);
    const nvr = { name: "lost-reply", version: "1.0", release: String(Date.now()) };
    const { build_id, token } = await client.CGInitBuild(nvr);
    const directory = freshDir();
    const log = Buffer.from("log\n");
    const [logResult] = await uploadDirectory(client, {
      directory,
      files: [{ filename: "osbuild.log", open: () => pieces(log) }],
    });
    const metadata = {
      metadata_version: 0,
      build: {
        ...nvr,
        source: "s",
        start_time: 1,
        end_time: 2,
        build_id,
        extra: { typeinfo: { image: {} } },
      },
      buildroots: [
        {
          id: 1,
          host: { os: "x", arch: "x86_64" },
          content_generator: { name: "osbuild", version: "1" },
          container: { type: "none", arch: "x86_64" },
          tools: [],
          components: [],
        },
      ],
      output: [
        {
          buildroot_id: 1,
          filename: "osbuild.log",
          filesize: log.length,
          arch: "noarch",
          checksum_type: "md5",
          checksum: logResult?.checksum,
          type: "log",
        },
      ],
    };
    const importsBefore = hub.counters.calls.CGImport ?? 0;
    hub.inject.importFailure("reply-lost");
    const error = await caught(client.CGImport(JSON.stringify(metadata), directory, token));
    expect(error.code).toBe("KOJI_COMMIT_UNCERTAIN");
    expect(error.retryable).toBe(true);
    expect(hub.counters.calls.CGImport).toBe(importsBefore + 1);
    expect((await client.getBuild(build_id))?.state).toBe(1);
  });

  it("KojiHubs hands out one session per configured hub and logs it out on close", async () => {
    const cert = hub.clientCert("osbuild");
    const hubs = new KojiHubs({
      hubs: [
        {
          url: hub.url,
          auth: "ssl",
          cert_file: cert.certFile,
          key_file: cert.keyFile,
          ca_file: hub.pki.caFile,
        },
      ],
    });
    const client = await hubs.client(hub.url);
    await client.getLoggedInUser();
    const session = lastSession(hub);
    expect(session && hub.state.sessions.has(session.id)).toBe(true);
    await hubs.close();
    expect(session && hub.state.sessions.has(session.id)).toBe(false);
  });
});
