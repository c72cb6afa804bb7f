import { parseArgs } from "node:util";
import { cpuSecondsBetween, cpuSnapshot, machineBusySeconds } from "./cpu-by-process.js";
import { describeModel, fixed, latencyOption, load, rate, verdict } from "./hub-bench-common.js";
import { HubEnvironment } from "./hub-environment-client.js";
import { meanStages, stageTimes } from "./latency-breakdown.js";
import { ServiceRun } from "./service-run.js";

/**
 * `npm run bench:scale-out [-- options]`: 1, 2 and 4 worker processes (`dist/cli.js worker`, AMQP_PREFETCH 8 each)
 * on one queue, against a fake hub with room for more than two workers: CGImport takes 2 s (the real hub's took 1 s
 * for a 10 MiB image on this machine, 3.8-7 s for 3 GB elsewhere) with at most 24 at once, a ceiling of 12 imports/s;
 * one worker keeps 8 CGImports going, two 16, four
 * would keep 32 and meet the ceiling. Target: 2 workers at least 1.8 × one; and never two CGImports for one
 * compose, from the fake hub's own request log.
 *
 * Throughput is the steady state's (ServiceRun.steadyRate: the middle 80 % of the imports by completion), as the
 * edges of a run weigh more the more imports run at once; the whole run's rate is printed beside it.
 *
 *   -n N           measured imports per worker count (default 400)
 *   --workers 1,2,4
 *   --service-ms, --max-concurrent, --hub-concurrency   the fake hub's latency model (defaults above)
 */
const { values: options } = parseArgs({
  options: {
    n: { type: "string", short: "n", default: "400" },
    workers: { type: "string", default: "1,2,4" },
    "service-ms": { type: "string" },
    "max-concurrent": { type: "string" },
    "hub-concurrency": { type: "string" },
  },
});
const N = Number(options.n);
const { latency, ceiling } = latencyOption(options, {
  serviceMs: "CGImport=2000,CGInitBuild=5,checkUpload=2,getBuild=3,getArchiveTypes=3,sslLogin=10",
  maxConcurrent: "CGImport=24",
});

async function main() {
  console.log(`scale-out, ${new Date().toISOString()}, ${load()}`);
  const counts = (options.workers ?? "").split(",").map(Number);
  const env = await HubEnvironment.start("fake");
  const results = new Map<number, number>();
  try {
    console.log(`fake hub: ${describeModel(latency)}; CGImport ceiling ${fixed(ceiling)} imports/s`);
    const started = Date.now();
    const prepared = new Map<number, Awaited<ReturnType<HubEnvironment["prepare"]>>>();
    for (const k of counts) prepared.set(k, await env.prepare(8 * k + N, `w${k}`, { seed: true }));
    console.log(
      `prepared ${[...prepared.values()].reduce((s, p) => s + p.length, 0)} composes in ${fixed((Date.now() - started) / 1000)} s`,
    );
    await env.latency(latency);

    for (const k of counts) {
      const composes = prepared.get(k) ?? [];
      const warmup = 8 * k;
      const run = await ServiceRun.open(`scale${k}`, {
        kojiHubs: env.kojiHubs,
        composerUrl: env.composerUrl,
      });
      try {
        const workers = Array.from({ length: k }, () => run.startWorker());
        // Each worker's first imports (logins, connections, JIT) unmeasured: 8 per worker, its prefetch.
        await run.publish(composes.slice(0, warmup).map((c) => c.event));
        await run.waitFinal(warmup, { timeoutMs: 600_000 });
        const pids = Object.fromEntries(workers.map((w, i) => [`worker ${i + 1}`, w.child.pid]));
        const before = cpuSnapshot({ ...pids, fakes: env.pid });
        const busyBefore = machineBusySeconds();
        const publishedAt = Date.now();
        await run.publish(composes.slice(warmup).map((c) => c.event));
        const done = await run.waitFinal(warmup + N, { timeoutMs: 1_800_000 });
        const seconds = ((done.lastImportedAt ?? Date.now()) - publishedAt) / 1000;
        const cpu = cpuSecondsBetween(before, cpuSnapshot({ ...pids, fakes: env.pid }));
        const busy = (100 * (machineBusySeconds() - busyBefore)) / (2 * seconds);
        const whole = rate(N, seconds);
        const steady = await run.steadyRate(publishedAt);
        results.set(k, steady);
        const workerCpu = [...cpu]
          .filter(([label]) => label.startsWith("worker"))
          .reduce((s, [, c]) => s + c, 0);
        console.log(
          `${k} worker${k > 1 ? "s" : " "}: ${fixed(steady)} imports/s steady` +
            ` (${fixed(steady / (results.get(counts[0] ?? 1) ?? steady), 2)} × ${counts[0]}; ${fixed((100 * steady) / ceiling, 0)}% of the hub's ceiling);` +
            ` ${N} imports in ${fixed(seconds)} s = ${fixed(whole)} imports/s over the whole run;` +
            ` ${done.imported}/${warmup + N} imported, ${done.attempts - warmup - N} extra attempts;` +
            ` workers' CPU ${fixed((1000 * workerCpu) / N)} ms/import, machine ${fixed(busy, 0)}% busy (${load()})`,
        );
        const measured = new Map(
          composes.slice(warmup).map((c) => [c.event.compose_id, publishedAt] as const),
        );
        const stages = meanStages([...(await stageTimes(run.pool, measured)).values()]).filter(
          ([stage]) => stage !== "queue+record",
        );
        console.log(
          `  mean ms per import in each stage: ${stages.map(([st, ms]) => `${st} ${fixed(ms)}`).join(", ")}`,
        );
        if (done.imported !== warmup + N)
          throw new Error(`${warmup + N - done.imported} imports did not end imported`);
      } finally {
        await run.close();
      }
    }
    const log = await env.log();
    console.log(
      `fake hub: ${log.cgImports.total} CGImports for ${log.cgImports.directories} composes, ` +
        `${log.cgImports.repeated.length} composes with more than one; most at once: ${JSON.stringify(log.peaks)}`,
    );
    const one = results.get(1);
    const two = results.get(2);
    if (one === undefined || two === undefined)
      throw new Error("the target compares 1 and 2 workers: --workers must name both");
    const growth = two / one;
    const once = log.cgImports.repeated.length === 0;
    verdict(
      growth >= 1.8 && once,
      `2 workers ${fixed(two)} imports/s steady = ${fixed(growth, 2)} × 1 worker ${fixed(one)} (target ≥ 1.8); ` +
        `${once ? "one CGImport per compose" : `${log.cgImports.repeated.length} composes imported twice`}`,
    );
  } finally {
    await env.close();
  }
}

await main();
