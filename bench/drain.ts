import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { OutageKind } from "../test/fakes/koji/latency.js";
import { cpuSecondsBetween, cpuSnapshot, machineBusySeconds } from "./cpu-by-process.js";
import { describeModel, fixed, latencyOption, load, rate, verdict } from "./hub-bench-common.js";
import { HubDriver } from "./hub-driver.js";
import type { HubLog } from "./hub-environment.js";
import { HubEnvironment } from "./hub-environment-client.js";
import { ServiceRun } from "./service-run.js";

/**
 * `npm run bench:drain [-- options]`: a backlog after a Koji outage. A warmed-up worker process (`dist/cli.js
 * worker`, its heap read through bench/heap-probe.cjs) meets a hub that refuses every call (the fake hub's outage
 * switch: Koji's ServerOffline fault, retryable) while N events are published; the outage lasts until every event
 * has been tried at least once, and at least --outage-min seconds. Then the hub comes back and the backlog drains.
 * Targets: every compose imported exactly once (one CGImport each in the hub's log, no dead letter); the drain at
 * least 0.9 × the hub-bound rate (the driver's, hub-driver.ts, on the same hub, measured first); the worker's heap
 * after a full collection within 10 % from before the outage to the end. It also counts the hub calls the outage
 * cost. RETRY_DELAYS is shortened for the bench (default below; the service's default ladder is 10s,1m,10m,1h,
 * whose 10-minute step would make the drain wait on the ladder instead of the hub).
 *
 *   -n N                 events in the backlog (default 10000)
 *   --outage-min S       the outage lasts at least S seconds (default 60)
 *   --outage offline|http503
 *   --retry-delays LIST  the worker's RETRY_DELAYS (default 5s,20s,1m)
 *   --reference R        the driver's imports for the hub-bound rate (default 400)
 *   --warmup-outage W    events through a short outage before the heap's starting point (default 400)
 *   --service-ms, --max-concurrent, --hub-concurrency   the fake hub's latency model (hub-bound's by default)
 */
const { values: options } = parseArgs({
  options: {
    n: { type: "string", short: "n", default: "10000" },
    "outage-min": { type: "string", default: "60" },
    outage: { type: "string", default: "offline" },
    "retry-delays": { type: "string", default: "5s,20s,1m" },
    reference: { type: "string", default: "400" },
    "warmup-outage": { type: "string", default: "400" },
    "service-ms": { type: "string" },
    "max-concurrent": { type: "string" },
    "hub-concurrency": { type: "string" },
  },
});
const N = Number(options.n);
const WARMUP = 16;
/** Events through a short outage before the heap's starting point: the failure path warmed up as much as the rest. */
const WARMUP_OUTAGE = Number(options["warmup-outage"]);
const WARM = WARMUP + WARMUP_OUTAGE;
const REFERENCE = Number(options.reference);
const OUTAGE = options.outage as OutageKind;
const { latency, ceiling } = latencyOption(options);
const MB = (bytes: number) => fixed(bytes / 1e6);

/** Requests the fake hub refused between two logs, by method. */
function refusedBetween(before: HubLog, after: HubLog): { total: number; byMethod: Record<string, number> } {
  const byMethod: Record<string, number> = {};
  let total = 0;
  for (const [method, count] of Object.entries(after.refused)) {
    const n = count - (before.refused[method] ?? 0);
    if (n > 0) byMethod[method] = n;
    total += n;
  }
  return { total, byMethod };
}

/** The worker's RSS from /proc, without disturbing it. */
function rssOf(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * Every 30 s, what the last 30 s did: imports and attempts, and the CPU each participant used (from /proc), so a
 * rate that changes over the run shows what changed with it.
 */
function monitor(run: ServiceRun, pids: Record<string, number | undefined>) {
  let cpu = cpuSnapshot(pids);
  let busy = machineBusySeconds();
  let at = Date.now();
  let last = { imported: 0, attempts: 0 };
  let phase = "down";
  const tick = async () => {
    const progress = await run.progress();
    const now = Date.now();
    const seconds = (now - at) / 1000;
    const cpuNow = cpuSnapshot(pids);
    const busyNow = machineBusySeconds();
    const used = cpuSecondsBetween(cpu, cpuNow);
    const share = (label: string) => `${label} ${fixed((100 * (used.get(label) ?? 0)) / seconds, 0)}%`;
    console.log(
      `  [${phase}] ${fixed(rate(progress.imported - last.imported, seconds))} imports/s, ` +
        `${fixed(rate(progress.attempts - last.attempts, seconds))} attempts/s; CPU ${["worker", "fakes", "postgres", "beam.smp"].map(share).join(", ")}, ` +
        `machine ${fixed((100 * (busyNow - busy)) / (2 * seconds), 0)}% busy; ${progress.imported - WARM} of ${N} imported (${load()})`,
    );
    cpu = cpuNow;
    busy = busyNow;
    at = now;
    last = progress;
  };
  const timer = setInterval(() => void tick().catch(() => undefined), 30_000);
  return {
    phase: (name: string) => {
      phase = name;
    },
    stop: () => clearInterval(timer),
  };
}

async function main() {
  console.log(`backlog drain, ${new Date().toISOString()}, ${load()}`);
  const env = await HubEnvironment.start("fake");
  try {
    console.log(`fake hub: ${describeModel(latency)}; CGImport ceiling ${fixed(ceiling)} imports/s`);
    const started = Date.now();
    const reference = await env.prepare(WARMUP + REFERENCE, "ref", { withLogs: true, seed: true });
    const backlog = await env.prepare(WARM + N, "bl", { seed: true });
    console.log(
      `prepared ${reference.length + backlog.length} composes in ${fixed((Date.now() - started) / 1000)} s`,
    );
    await env.latency(latency);

    const run = await ServiceRun.open("drain", env, { RETRY_DELAYS: options["retry-delays"] ?? "" });
    try {
      console.log(
        `worker: AMQP_PREFETCH ${run.config.AMQP_PREFETCH}, RETRY_DELAYS ${options["retry-delays"]}, MAX_ATTEMPTS ${run.config.MAX_ATTEMPTS}`,
      );
      // The hub-bound rate on this hub, now: the driver at the worker's concurrency.
      const driver = new HubDriver(run.config);
      const documents = HubDriver.documents(reference);
      await driver.warmUp();
      await driver.run(documents.slice(0, WARMUP));
      const driven = await driver.run(documents.slice(WARMUP));
      await driver.close();
      if (driven.failures.length > 0) throw new Error(`driver: ${driven.failures[0]}`);
      const hubRate = rate(REFERENCE, driven.seconds);
      console.log(`hub-bound rate (driver, ${REFERENCE} imports): ${fixed(hubRate)} imports/s (${load()})`);

      // Warm-up on every path the run takes: imports, and imports through a short outage (refused, retried,
      // the orphan check, imported), so that the heap's starting point has all of them compiled and cached.
      const worker = run.startWorker({ heapProbe: true });
      await run.publish(backlog.slice(0, WARMUP).map((c) => c.event));
      await run.waitFinal(WARMUP, { timeoutMs: 600_000 });
      await env.outage(OUTAGE);
      await run.publish(backlog.slice(WARMUP, WARM).map((c) => c.event));
      await waitTried(run, WARM, 0);
      await env.outage(false);
      await run.waitFinal(WARM, { timeoutMs: 600_000 });
      const heaps: Array<[string, number]> = [];
      const heapBefore = await worker.heap();
      heaps.push(["start", heapBefore.heapUsed]);
      let rssMin = rssOf(worker.child.pid);
      let rssMax = rssMin;
      const rssSampler = setInterval(() => {
        const rss = rssOf(worker.child.pid);
        rssMin = Math.min(rssMin, rss);
        rssMax = Math.max(rssMax, rss);
      }, 1000);
      console.log(
        `worker warmed up (${WARMUP} imports, ${WARMUP_OUTAGE} more through a short outage): heap after GC ${MB(heapBefore.heapUsed)} MB, RSS ${MB(heapBefore.rss)} MB`,
      );

      // The outage: every request refused. The backlog is published into it.
      const watch = monitor(run, {
        worker: worker.child.pid,
        fakes: env.pid,
        bench: process.pid,
      });
      const logBefore = await env.log();
      const attemptsBefore = (await run.progress()).attempts;
      await env.outage(OUTAGE);
      const downAt = Date.now();
      await run.publish(backlog.slice(WARM).map((c) => c.event));
      console.log(`hub down (${OUTAGE}); ${N} events published in ${fixed((Date.now() - downAt) / 1000)} s`);
      await waitTried(run, WARM + N, downAt + 1000 * Number(options["outage-min"]));
      const duringOutage = await run.progress();
      const logDown = await env.log();
      await env.outage(false);
      watch.phase("up");
      const upAt = Date.now();
      const outageSeconds = (upAt - downAt) / 1000;
      const refused = refusedBetween(logBefore, logDown);
      const heapAtUp = await worker.heap();
      heaps.push([`hub back (${fixed(outageSeconds, 0)} s)`, heapAtUp.heapUsed]);
      console.log(
        `hub back after ${fixed(outageSeconds)} s: ${duringOutage.attempts - attemptsBefore} attempts, ${refused.total} hub requests refused ` +
          `(${fixed(refused.total / N, 2)} per event, ${fixed(refused.total / outageSeconds)}/s: ${JSON.stringify(refused.byMethod)}); ` +
          `heap after GC ${MB(heapAtUp.heapUsed)} MB (${load()})`,
      );

      let probed = Date.now();
      const done = await run.waitFinal(WARM + N, {
        timeoutMs: Math.max(1_800_000, (20 * 1000 * N) / hubRate),
        everyMs: 10_000,
        report: async (p) => {
          if (Date.now() - probed < 120_000) return;
          probed = Date.now();
          heaps.push([`${p.imported - WARM} imported`, (await worker.heap()).heapUsed]);
        },
      });
      watch.stop();
      clearInterval(rssSampler);
      const drainSeconds = ((done.lastImportedAt ?? Date.now()) - upAt) / 1000;
      const drainRate = rate(N, drainSeconds);
      const heapAfter = await worker.heap();
      heaps.push(["end", heapAfter.heapUsed]);
      const logAfter = await env.log();
      const deadLetters = await run.deadLetters();
      const heapChange = (heapAfter.heapUsed - heapBefore.heapUsed) / heapBefore.heapUsed;
      const cgImports = logAfter.cgImports;
      const expectedImports = WARMUP + REFERENCE + WARM + N;
      console.log(
        `drained: ${done.imported - WARM} of ${N} imported in ${fixed(drainSeconds)} s = ${fixed(drainRate)} imports/s ` +
          `(${fixed(drainRate / hubRate, 3)} × the hub-bound ${fixed(hubRate)}); ${done.attempts - attemptsBefore} attempts in all, ` +
          `${deadLetters} dead letters (${load()})`,
      );
      console.log(
        `fake hub: ${cgImports.total} CGImports for ${cgImports.directories} composes (expected ${expectedImports}), ` +
          `${cgImports.repeated.length} composes with more than one; ${logAfter.completeBuilds} builds COMPLETE; ` +
          `calls after the outage: ${JSON.stringify(callsBetween(logDown, logAfter))}`,
      );
      console.log(
        `worker heap after GC: ${heaps.map(([at, bytes]) => `${at} ${MB(bytes)}`).join(", ")} MB ` +
          `(${heapChange >= 0 ? "+" : ""}${fixed(100 * heapChange)}% start to end); RSS ${MB(rssMin)}-${MB(rssMax)} MB over the run`,
      );
      const once =
        done.imported === WARM + N &&
        cgImports.repeated.length === 0 &&
        cgImports.total === expectedImports &&
        deadLetters === 0;
      const fast = drainRate >= 0.9 * hubRate;
      const flat = Math.abs(heapChange) <= 0.1;
      verdict(
        once && fast && flat,
        `drain ${fixed(drainRate)} imports/s = ${fixed(drainRate / hubRate, 3)} × hub-bound ${fixed(hubRate)} (target ≥ 0.9); ` +
          `${once ? "all imported exactly once" : "NOT all imported exactly once"}; heap ${fixed(100 * heapChange)}% (target within ±10%); ` +
          `outage cost ${refused.total} hub requests for ${N} events`,
      );
    } finally {
      await run.close();
    }
  } finally {
    await env.close();
  }
}

/** Until `rows` imports exist and each was tried at least once, and not before `notBefore`. */
async function waitTried(run: ServiceRun, rows: number, notBefore: number): Promise<void> {
  let reported = Date.now();
  for (;;) {
    const { rows: counts } = await run.pool.query<{ tried: string }>(
      "SELECT count(*) FILTER (WHERE attempts >= 1) AS tried FROM imports",
    );
    const tried = Number(counts[0]?.tried ?? 0);
    if (tried >= rows && Date.now() >= notBefore) return;
    if (Date.now() - reported > 30_000) {
      reported = Date.now();
      console.log(`  ... ${tried} of ${rows} events tried (${load()})`);
    }
    await sleep(500);
  }
}

/** Calls that ran between two logs, by method. */
function callsBetween(before: HubLog, after: HubLog): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const [method, count] of Object.entries(after.calls)) {
    const n = count - (before.calls[method] ?? 0);
    if (n > 0) calls[method] = n;
  }
  return calls;
}

await main();
