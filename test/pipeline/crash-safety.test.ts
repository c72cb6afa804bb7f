import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CrashPoint } from "../../src/pipeline/crash-hook.js";
import { createHarness, type Harness } from "./harness.js";

const ROOT = new URL("../../", import.meta.url).pathname;
let h: Harness;

beforeAll(async () => {
  h = await createHarness("crash");
});

afterAll(async () => {
  await h.close();
});

/** A real worker process (the CLI's `worker` command) that kills itself with SIGKILL right after `point`. */
function crashingWorker(point: CrashPoint): Promise<NodeJS.Signals | number | null> {
  // node itself (tsx as a loader), so the signal that ends the worker is what the test sees.
  const child = spawn(process.execPath, ["--import", "tsx", `${ROOT}src/cli.ts`, "worker"], {
    cwd: ROOT,
    env: { ...process.env, ...h.env, OKI_TEST_CRASH_AFTER: point },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
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
