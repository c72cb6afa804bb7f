import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assembleCgMetadata, withBuildId } from "../../src/core/assemble.js";
import type { ImporterError } from "../../src/errors.js";
import { sslAuthenticator } from "../../src/koji/auth.js";
import { KojiFault } from "../../src/koji/faults.js";
import { KojiTransport } from "../../src/koji/transport.js";
import { ComposeLogsSchema } from "../../src/schemas/composer.js";
import { type KojiComposeFinishedEvent, parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { uploadFile } from "../fakes/composer-worker/upload.js";
import { UploadClient, UploadingKojiSession } from "../fakes/composer-worker/upload-client.js";
import { Gate, latencyFromSettings, noLatency } from "../fakes/koji/latency.js";
import { type FakeKojiHub, startFakeKojiHub } from "../fakes/koji/server.js";
import { artifactStream } from "../fixtures/artifacts.js";
import { COMPOSES, loadCompose, uploadedFiles } from "../fixtures/composes.js";
import { caught } from "../support/caught.js";

/**
 * The fake hub's latency model and outage switch (test/fakes/koji/latency.ts), which the hub-bound benchmarks
 * rely on: a service time per method, calls beyond a method's or the hub's limit queued first come first
 * served, and an outage that refuses every request as retryable until the hub is back.
 */

let hub: FakeKojiHub;
const transports: KojiTransport[] = [];
let koji: UploadClient;

async function client(): Promise<UploadClient> {
  const cert = hub.clientCert("osbuild");
  const transport = await KojiTransport.create({
    tls: { certFile: cert.certFile, keyFile: cert.keyFile, caFile: hub.pki.caFile },
    timeoutMs: 10_000,
  });
  transports.push(transport);
  return new UploadClient(
    new UploadingKojiSession({
      hubUrl: hub.url,
      transport,
      authenticator: sslAuthenticator(),
      retry: { baseDelayMs: 10 },
    }),
  );
}

beforeAll(async () => {
  hub = await startFakeKojiHub();
  hub.grant("osbuild");
  hub.addTask(987654);
  koji = await client();
  await koji.session.login();
});

afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await hub.close();
});

const reset = () => {
  hub.settings.latency = noLatency();
  hub.settings.outage = false;
};

/** Runs `calls` at once and returns the wall time they took together. */
async function timed(calls: Array<() => Promise<unknown>>): Promise<number> {
  const started = performance.now();
  await Promise.all(calls.map((call) => call()));
  return performance.now() - started;
}

let releases = 0;
/** A reservation with the sample compose's outputs uploaded: ready for CGImport. */
async function prepared() {
  releases += 1;
  const n = releases;
  const fixture = loadCompose(COMPOSES.success);
  const release = `lat${n}`;
  const event = parseComposeFinishedEvent({
    ...fixture.event,
    koji: { ...(fixture.event.koji as object), release },
  }) as KojiComposeFinishedEvent;
  const { build_id, token } = await koji.CGInitBuild({
    name: event.koji.name,
    version: event.koji.version,
    release,
  });
  const doc = withBuildId(
    assembleCgMetadata({ event, logs: ComposeLogsSchema.parse(fixture.logs) }),
    build_id,
  );
  const directory = `osbuild-cg/latency-${n}`;
  for (const file of uploadedFiles(fixture.logs))
    await uploadFile(koji, {
      directory,
      filename: file.filename,
      source: artifactStream(file.filename, file.size),
    });
  return { json: JSON.stringify(doc), directory, token, buildId: build_id };
}

describe("the latency model", () => {
  it("is off by default: no service time, no limits", () => {
    expect(hub.settings.latency).toEqual(noLatency());
    expect(hub.settings.outage).toBe(false);
  });

  it("spends a method's service time on each of its calls, and only on that method's", async () => {
    try {
      hub.settings.latency.serviceMs = { getBuild: 150 };
      const slow = await timed([() => koji.getBuild(1)]);
      expect(slow).toBeGreaterThanOrEqual(145);
      // A multicall's calls each: two checkUploads at 100 ms are 200 ms in one request.
      hub.settings.latency.serviceMs = { checkUpload: 100 };
      expect(await timed([() => koji.checkUploads("osbuild-cg/none", ["a", "b"])])).toBeGreaterThanOrEqual(
        195,
      );
    } finally {
      reset();
    }
  });

  it("runs at most maxConcurrent CGImports at once, the rest queued: 6 at 200 ms, 4 at a time, take two rounds", async () => {
    const imports = await Promise.all(Array.from({ length: 6 }, () => prepared()));
    try {
      hub.settings.latency = { ...noLatency(), serviceMs: { CGImport: 200 }, maxConcurrent: { CGImport: 4 } };
      const peakBefore = hub.latencyPeaks().CGImport ?? 0;
      const builds: Array<{ id: number; state: number }> = [];
      const wall = await timed(
        imports.map((p) => async () => builds.push(await koji.CGImport(p.json, p.directory, p.token))),
      );
      expect(builds.map((b) => b.state)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(hub.latencyPeaks().CGImport).toBe(Math.max(4, peakBefore));
      expect(wall).toBeGreaterThanOrEqual(395);
    } finally {
      reset();
    }
  });

  it("serves at most hubConcurrency requests at once, whatever their method", async () => {
    try {
      hub.settings.latency = {
        ...noLatency(),
        serviceMs: { getBuild: 100, getLoggedInUser: 100 },
        hubConcurrency: 1,
      };
      const wall = await timed([
        () => koji.getBuild(1),
        () => koji.getLoggedInUser(),
        () => koji.getBuild(2),
      ]);
      expect(wall).toBeGreaterThanOrEqual(295);
      expect(hub.latencyPeaks().hub).toBeGreaterThanOrEqual(1);
    } finally {
      reset();
    }
  });
});

describe("the outage switch", () => {
  it("offline: every request refused with ServerOffline (retryable), logins included; served again once back", async () => {
    try {
      hub.settings.outage = "offline";
      const before = hub.counters.outageRefusals;
      const fault = await caught(koji.getBuild(1), KojiFault);
      expect(fault).toMatchObject({ faultCode: 1014, faultName: "ServerOffline", retryable: true });
      // Recorded as it came, marked refused: it never ran.
      expect(hub.requests.at(-1)).toMatchObject({ method: "getBuild", outage: "offline" });
      const reserve = await caught(koji.CGInitBuild({ name: "n", version: "1", release: "down" }), KojiFault);
      expect(reserve).toMatchObject({ faultCode: 1014, retryable: true });
      // A fresh client's login: refused too, and resent as the session resends a failed login (twice).
      const login = await caught((await client()).getBuild(1), KojiFault);
      expect(login).toMatchObject({ faultCode: 1014, retryable: true });
      expect(hub.counters.outageRefusals - before).toBe(1 + 1 + 3);
      hub.settings.outage = false;
      // The hub's sessions outlived the outage: the same session is served again.
      expect(await koji.getBuild(1)).toBeNull();
      expect((await koji.CGInitBuild({ name: "n", version: "1", release: "up" })).build_id).toBeGreaterThan(
        0,
      );
    } finally {
      reset();
    }
  });

  it("http503: Apache's 503, retryable; a committing call reads as uncertain, not resent", async () => {
    try {
      hub.settings.outage = "http503";
      const before = hub.counters.outageRefusals;
      const read = await caught<ImporterError>(koji.getBuild(1));
      expect(read).toMatchObject({ code: "KOJI_HTTP_STATUS", retryable: true, details: { status: 503 } });
      expect(read.message).toContain("Service Unavailable");
      const reserve = await caught<ImporterError>(
        koji.CGInitBuild({ name: "n", version: "1", release: "down503" }),
      );
      expect(reserve).toMatchObject({ code: "KOJI_COMMIT_UNCERTAIN", retryable: true });
      // The read was resent twice; the committing call went once.
      expect(hub.counters.outageRefusals - before).toBe(3 + 1);
      hub.settings.outage = false;
      expect(
        (await koji.CGInitBuild({ name: "n", version: "1", release: "down503" })).build_id,
      ).toBeGreaterThan(0);
    } finally {
      reset();
    }
  });
});

describe("Gate", () => {
  it("lets `limit` in at once and the rest in arrival order", async () => {
    const gate = new Gate(() => 2);
    const order: number[] = [];
    const held = await Promise.all([gate.enter(), gate.enter()]);
    // Each waiter leaves as soon as it is in, letting the next one in.
    const waiting = [3, 4, 5].map((n) =>
      gate.enter().then((release) => {
        order.push(n);
        release();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    for (const release of held) release();
    await Promise.all(waiting);
    expect(order).toEqual([3, 4, 5]);
    expect(gate.peak).toBe(2);
  });
});

describe("latencyFromSettings", () => {
  it("reads the fake's command line and environment", () => {
    expect(
      latencyFromSettings({
        serviceMs: "CGImport=200, checkUpload=2",
        maxConcurrent: "CGImport=4",
        hubConcurrency: "8",
        outage: "http503",
      }),
    ).toEqual({
      latency: {
        serviceMs: { CGImport: 200, checkUpload: 2 },
        maxConcurrent: { CGImport: 4 },
        hubConcurrency: 8,
      },
      outage: "http503",
    });
    expect(latencyFromSettings({})).toEqual({ latency: noLatency(), outage: undefined });
    expect(() => latencyFromSettings({ serviceMs: "CGImport" })).toThrow(/serviceMs.*METHOD=NUMBER/);
    expect(() => latencyFromSettings({ outage: "down" })).toThrow(/outage/);
  });
});
