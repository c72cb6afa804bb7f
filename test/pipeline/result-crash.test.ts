import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CrashPoint } from "../../src/pipeline/crash-hook.js";
import { bindResultConsumer, type ResultConsumer } from "../support/result-consumer.js";
import { createHarness, type Harness } from "./harness.js";

/**
 * A real worker killed with SIGKILL between an import's final commit and the publish of its result (and inside
 * the relay's batch): the result still arrives once a worker runs again, and a duplicate carries the same
 * message_id.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
let h: Harness;
let results: ResultConsumer;

beforeAll(async () => {
  h = await createHarness("result_crash");
  results = await bindResultConsumer(h.env.AMQP_URL as string, h.config.AMQP_EXCHANGE);
}, 60_000);

afterAll(async () => {
  await results?.close();
  await h?.close();
});

function crashingWorker(point: CrashPoint): Promise<NodeJS.Signals | number | null> {
  const child = spawn(process.execPath, ["--import", "tsx", `${ROOT}src/cli.ts`, "worker"], {
    cwd: ROOT,
    env: { ...process.env, ...h.env, OKI_TEST_CRASH_AFTER: point },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
}

const CASES: Array<{ point: CrashPoint; state: "imported" | "refunded"; copies: number }> = [
  // Final state committed, result not yet looked at by the relay.
  { point: "imported", state: "imported", copies: 1 },
  { point: "failure-recorded", state: "refunded", copies: 1 },
  // The relay locked the result and died before publishing it: the lock goes with the connection.
  { point: "result-claimed", state: "imported", copies: 1 },
  // Published and confirmed, killed before marking it sent: published again, with the same message_id.
  { point: "result-published", state: "imported", copies: 2 },
];

it("a worker killed between the final commit and the result's publish: the result arrives after a restart", async () => {
  for (const { point, state, copies } of CASES) {
    const { composeId, event } = await h.prepareCompose();
    if (state === "refunded") h.hub.inject.importFailure({ faultCode: 1000, faultString: "refused" });
    const worker = crashingWorker(point);
    await h.publish(event);
    expect(await worker, `the worker should have died after ${point}`).toBe("SIGKILL");
    expect((await h.waitForState(composeId, ["imported", "failed", "refunded"])).state).toBe(state);
    const pending = await h.pool.query(
      "SELECT count(*)::int AS n FROM import_result_outbox WHERE compose_id = $1 AND published_at IS NULL",
      [composeId],
    );
    expect(pending.rows[0].n, `result pending after a crash at ${point}`).toBe(1);

    const restarted = await h.startWorker();
    const got = await results.take(copies);
    got.push(...(await results.drainFor(300)));
    await restarted.stop();
    expect(
      got.map((r) => r.messageId),
      `results after a crash at ${point}`,
    ).toEqual(Array(copies).fill(`${composeId}:${state}`));
    expect(got[0]?.event).toMatchObject({ compose_id: composeId, state });
    if (state === "refunded") await h.nextDeadLetter();
  }
  const left = await h.pool.query(
    "SELECT count(*)::int AS n FROM import_result_outbox WHERE published_at IS NULL",
  );
  expect(left.rows[0].n).toBe(0);
}, 120_000);
