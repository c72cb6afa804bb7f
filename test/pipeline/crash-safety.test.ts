import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CrashPoint } from "../../src/pipeline/crash-hook.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { seenStateChanges } from "../support/state-changes.js";
import { createHarness, type Harness } from "./harness.js";

const ROOT = new URL("../../", import.meta.url).pathname;
let h: Harness;

beforeAll(async () => {
  h = await createHarness("crash");
});

afterAll(async () => {
  await h.close();
});

/** A real worker process (the CLI's `worker` command), killed with SIGKILL right after `point` when given. */
function workerProcess(point?: CrashPoint): {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
} {
  // node itself (tsx as a loader), so the signal that ends the worker is what the test sees.
  const child = spawn(process.execPath, ["--import", "tsx", `${ROOT}src/cli.ts`, "worker"], {
    cwd: ROOT,
    env: { ...process.env, ...h.env, ...(point ? { OKI_TEST_CRASH_AFTER: point } : {}) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return {
    child,
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code))),
  };
}

function crashingWorker(point: CrashPoint): Promise<NodeJS.Signals | number | null> {
  return workerProcess(point).exited;
}

const POINTS: CrashPoint[] = [
  "recorded",
  "fetched",
  "assembled",
  "reserve-call",
  "reserved",
  "uploads-checked",
  "import-call",
  "imported",
];

it("a worker killed right after any step leaves the import to a restarted worker: each imported exactly once", async () => {
  for (const point of POINTS) {
    const { composeId, event } = await h.prepareCompose();
    const worker = crashingWorker(point);
    await h.publish(event);
    expect(await worker, `the worker should have died after ${point}`).toBe("SIGKILL");

    const restarted = await h.startWorker();
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    await restarted.stop();
    expect(row.state, `after a crash at ${point}`).toBe("imported");

    const builds = [...h.hub.state.builds.values()].filter((b) => b.release === event.koji.release);
    expect(
      builds.map((b) => b.state),
      `builds of the NVR after a crash at ${point}`,
    ).toEqual([1]);
    expect(builds[0]?.id).toBe(row.koji_build_id);
  }
  // Nothing lost, nothing stuck: the work queue is empty and no build anywhere is left BUILDING.
  const queue = await h.admin.checkQueue(h.config.AMQP_QUEUE);
  expect(queue.messageCount).toBe(0);
  expect([...h.hub.state.builds.values()].filter((b) => b.state === 0)).toEqual([]);
}, 120_000);

it("a worker killed after recording a failure, before dead-lettering it: the restarted worker dead-letters it", async () => {
  const { composeId, event } = await h.prepareCompose();
  h.hub.inject.importFailure({ faultCode: 1000, faultString: "Build (42) NVR is different" });
  const worker = crashingWorker("failure-recorded");
  await h.publish(event);
  expect(await worker).toBe("SIGKILL");
  expect((await h.waitForState(composeId, ["imported", "failed", "refunded"])).state).toBe("refunded");

  const restarted = await h.startWorker();
  const dead = await h.nextDeadLetter();
  await restarted.stop();
  expect(dead.properties.headers).toMatchObject({ "x-compose-id": composeId, "x-error-code": "KOJI_FAULT" });
  expect(String(dead.properties.headers?.["x-death-reason"])).toContain("Build (42) NVR is different");
  const builds = [...h.hub.state.builds.values()].filter((b) => b.release === event.koji.release);
  expect(builds.map((b) => b.state)).toEqual([3]);
  expect((await h.admin.checkQueue(h.config.AMQP_QUEUE)).messageCount).toBe(0);
}, 60_000);

/** A compose reserved by composer's koji-init job on the fake hub, the reservation named in its logs. */
async function composerReservedCompose() {
  const { composeId, event } = await h.prepareCompose(COMPOSES.reserved);
  const reservation = h.hub.state.newBuild(h.hub.state.user("osbuild"), "osbuild", event.koji, 0);
  reservation.token = `reservation-token-${reservation.id}`;
  const bodies = loadCompose(COMPOSES.reserved);
  const init = { build_id: reservation.id, token: reservation.token };
  const logs = { ...bodies.logs, koji: { ...(bodies.logs.koji as object), init } };
  h.composer.addCompose(composeId, { status: bodies.status, logs, manifests: bodies.manifests });
  return { composeId, event };
}

it("a worker killed during a slow CGImport and restarted at once waits for it: one CGImport, imported, no refund", async () => {
  // The real hub's CGImport takes seconds, the build BUILDING until it commits; a second CGImport meanwhile
  // is refused and so is a refund after the commit.
  h.hub.state.importDurationMs = 4000;
  try {
    for (const source of ["importer", "composer"] as const) {
      const { composeId, event } =
        source === "composer" ? await composerReservedCompose() : await h.prepareCompose();
      const before = { ...h.hub.counters.calls };
      const worker = workerProcess();
      await h.publish(event);
      const sent = () => (h.hub.counters.calls.CGImport ?? 0) > (before.CGImport ?? 0);
      for (const end = Date.now() + 30_000; !sent() && Date.now() < end; )
        await new Promise((resolve) => setTimeout(resolve, 10));
      // The hub is inside the CGImport: kill the worker there, and restart it at once.
      await new Promise((resolve) => setTimeout(resolve, 300));
      worker.child.kill("SIGKILL");
      expect(await worker.exited).toBe("SIGKILL");
      const reserved = h.hub.state.builds.get(
        (await h.waitFor(composeId, () => true)).koji_build_id as number,
      );
      expect(reserved?.state, "the build while the hub is still importing").toBe(0);
      const restarted = await h.startWorker();
      const row = await h.waitForState(composeId, ["imported", "failed", "refunded"], 60_000);
      await restarted.stop();
      expect(row, `reservation by ${source}`).toMatchObject({ state: "imported", last_error: null });
      const calls = (method: string) => (h.hub.counters.calls[method] ?? 0) - (before[method] ?? 0);
      expect(calls("CGImport"), `CGImports sent (reservation by ${source})`).toBe(1);
      expect(calls("CGRefundBuild"), `refunds (reservation by ${source})`).toBe(0);
      const builds = [...h.hub.state.builds.values()].filter((b) => b.release === event.koji.release);
      expect(builds.map((b) => [b.id, b.state])).toEqual([[row.koji_build_id, 1]]);
    }
  } finally {
    h.hub.state.importDurationMs = 0;
  }
  expect((await h.admin.checkQueue(h.config.AMQP_QUEUE)).messageCount).toBe(0);
  expect((await h.admin.checkQueue(`${h.config.AMQP_QUEUE}.dead-letter`)).messageCount).toBe(0);
}, 180_000);

it("took the state machine's whole path across the crashes (and, as h.close() checks, nothing outside it)", async () => {
  const seen = (await seenStateChanges(h.pool)).map((s) => `${s.from ?? "(new)"} → ${s.to}`);
  expect(seen).toEqual(
    expect.arrayContaining([
      "(new) → received",
      "received → fetched",
      "fetched → assembled",
      "assembled → reserved",
      "reserved → uploaded",
      "uploaded → imported",
      "uploaded → refunded",
    ]),
  );
});
