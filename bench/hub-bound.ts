import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { cpuSecondsBetween, cpuSnapshot, machineBusySeconds } from "./cpu-by-process.js";
import { describeModel, fixed, latencyOption, load, rate, verdict } from "./hub-bench-common.js";
import { HubDriver } from "./hub-driver.js";
import { HubEnvironment, type PreparedCompose } from "./hub-environment-client.js";
import { meanStages, stageTimes } from "./latency-breakdown.js";
import { ServiceRun } from "./service-run.js";

/**
 * `npm run bench:hub-bound [-- options]`: is the importer ever the bottleneck? The hub's limit is measured by a
 * driver (hub-driver.ts) that makes exactly an import's hub calls with the project's Koji client and the worker's
 * concurrency, and nothing else; then the whole service (a `dist/cli.js worker` process, real PostgreSQL and
 * RabbitMQ, the fake composer) imports as many composes of the same kind. Target: the service's imports/s at least
 * 0.95 of the driver's.
 *
 *   -n N                    measured imports each (default 400 on the fake hub; on the real one, per size below)
 *   --warmup W              unmeasured imports first, each (default 16: logins, connections, JIT)
 *   --service-ms, --max-concurrent, --hub-concurrency   the fake hub's latency model (hub-bench-common.ts)
 *   --hub real              the real hub of REALHUB_STATE/REALHUB_PORT (bench/realhub-config.ts) instead, no model:
 *   --image-mib 10,1024     there, one run per first-image size (default 10 MiB and 1 GiB; -n default 16 and 4)
 */
const { values: options } = parseArgs({
  options: {
    n: { type: "string", short: "n" },
    warmup: { type: "string" },
    hub: { type: "string", default: "fake" },
    "image-mib": { type: "string", default: "10,1024" },
    "service-ms": { type: "string" },
    "max-concurrent": { type: "string" },
    "hub-concurrency": { type: "string" },
  },
});
const REAL = options.hub === "real";
const { latency, ceiling } = latencyOption(options);

interface Figures {
  label: string;
  driver: number;
  service: number;
}

/** Driver, then service, on `2 × (warmup + n)` fresh composes; the imports/s of each. */
async function measure(
  env: HubEnvironment,
  label: string,
  n: number,
  warmup: number,
  imageBytes?: number,
): Promise<Figures> {
  console.log(`\n== ${label}: ${n} imports each, after ${warmup} unmeasured (${load()})`);
  const started = Date.now();
  const tag = label.replace(/\W/g, "");
  const seed = !REAL;
  const forDriver = await env.prepare(warmup + n, `d${tag}`, { imageBytes, withLogs: true, seed });
  const forService = await env.prepare(warmup + n, `s${tag}`, { imageBytes, seed });
  console.log(
    `prepared ${2 * (warmup + n)} composes in ${fixed((Date.now() - started) / 1000)} s (outputs ${seed ? "seeded into the fake hub's work directory" : "uploaded as composer's worker does"})`,
  );
  if (!REAL) await env.latency(latency);

  const run = await ServiceRun.open("hub", { kojiHubs: env.kojiHubs, composerUrl: env.composerUrl });
  try {
    console.log(
      `concurrency: AMQP_PREFETCH ${run.config.AMQP_PREFETCH} imports at once, for driver and worker alike`,
    );
    const documents = HubDriver.documents(forDriver);
    const driver = new HubDriver(run.config);
    await driver.warmUp();
    await driver.run(documents.slice(0, warmup));
    const cpuBefore = cpuSnapshot({ "bench (driver)": process.pid, "fakes (hub + composer)": env.pid });
    const busyBefore = machineBusySeconds();
    const driven = await driver.run(documents.slice(warmup));
    const driverCpu = cpuSecondsBetween(
      cpuBefore,
      cpuSnapshot({ "bench (driver)": process.pid, "fakes (hub + composer)": env.pid }),
    );
    const driverBusy = machineBusySeconds() - busyBefore;
    await driver.close();
    if (driven.failures.length > 0)
      throw new Error(`driver failures: ${driven.failures.slice(0, 3).join("; ")}`);
    const driverRate = rate(n, driven.seconds);
    console.log(
      `driver:  ${n} imports in ${fixed(driven.seconds)} s = ${fixed(driverRate)} imports/s (${load()})`,
    );
    printCpu(driverCpu, driverBusy, driven.seconds, n);
    console.log(`  mean ms per import in each call: ${stagesText(Object.entries(driven.meanMs))}`);

    const worker = run.startWorker();
    await run.publish(forService.slice(0, warmup).map((c) => c.event));
    await run.waitFinal(warmup, { timeoutMs: 600_000 });
    await sleep(500);
    const processes = {
      "worker (dist/cli.js)": worker.child.pid,
      "fakes (hub + composer)": env.pid,
      bench: process.pid,
    };
    const serviceCpuBefore = cpuSnapshot(processes);
    const serviceBusyBefore = machineBusySeconds();
    const publishedAt = Date.now();
    await run.publish(forService.slice(warmup).map((c: PreparedCompose) => c.event));
    const done = await run.waitFinal(warmup + n, {
      timeoutMs: Math.max(600_000, 40 * driven.seconds * 1000),
      report: (p) => console.log(`  ... ${p.final - warmup} of ${n} final`),
    });
    const serviceSeconds = ((done.lastImportedAt ?? Date.now()) - publishedAt) / 1000;
    const serviceCpu = cpuSecondsBetween(serviceCpuBefore, cpuSnapshot(processes));
    const serviceBusy = machineBusySeconds() - serviceBusyBefore;
    const serviceRate = rate(n, serviceSeconds);
    console.log(
      `service: ${n} imports in ${fixed(serviceSeconds)} s = ${fixed(serviceRate)} imports/s (${load()}); ` +
        `${done.imported}/${warmup + n} imported, ${done.attempts} attempts, ${await run.deadLetters()} dead letters`,
    );
    printCpu(serviceCpu, serviceBusy, serviceSeconds, n);
    const measured = new Map(forService.slice(warmup).map((c) => [c.event.compose_id, publishedAt] as const));
    const stages = meanStages([...(await stageTimes(run.pool, measured)).values()]);
    console.log(`  mean ms per import in each stage (the queue's is the backlog's): ${stagesText(stages)}`);
    if (done.imported !== warmup + n)
      throw new Error(`${warmup + n - done.imported} imports did not end imported`);
    if (!REAL) {
      const log = await env.log();
      console.log(
        `fake hub: ${log.cgImports.total} CGImports for ${log.cgImports.directories} composes (${log.cgImports.repeated.length} repeated), ` +
          `${log.completeBuilds} builds COMPLETE; most at once: ${JSON.stringify(log.peaks)}`,
      );
      if (log.cgImports.repeated.length > 0)
        throw new Error(`two CGImports for ${log.cgImports.repeated[0]}`);
    }
    console.log(`ratio service / driver: ${fixed(serviceRate / driverRate, 3)}`);
    return { label, driver: driverRate, service: serviceRate };
  } finally {
    await run.close();
  }
}

function stagesText(stages: Array<[string, number]>): string {
  return stages.map(([name, ms]) => `${name} ${fixed(ms)}`).join(", ");
}

function printCpu(used: Map<string, number>, busy: number, seconds: number, n: number): void {
  const top = [...used].slice(0, 5).map(([label, s]) => `${label} ${fixed((1000 * s) / n)}`);
  console.log(
    `  CPU ms/import: ${top.join(", ")}; machine busy ${fixed((100 * busy) / (2 * seconds), 0)}% of 2 cores`,
  );
}

async function main() {
  console.log(`hub-bound ratio, ${new Date().toISOString()}, ${load()}`);
  const env = await HubEnvironment.start(REAL ? "real" : "fake");
  const results: Figures[] = [];
  try {
    if (REAL) {
      console.log(`real hub ${env.kojiHubs[0]?.url} (Koji under Apache; CGImport re-reads every output)`);
      for (const mib of (options["image-mib"] ?? "").split(",").map(Number)) {
        const n = Number(options.n ?? (mib >= 512 ? 4 : 16));
        const warmup = Number(options.warmup ?? 1);
        results.push(await measure(env, `${mib} MiB image`, n, warmup, mib * 1024 * 1024));
      }
    } else {
      console.log(`fake hub: ${describeModel(latency)}; CGImport ceiling ${fixed(ceiling)} imports/s`);
      results.push(await measure(env, "fake hub", Number(options.n ?? 400), Number(options.warmup ?? 16)));
    }
  } finally {
    await env.close();
  }
  const worst = results.reduce((a, b) => (b.service / b.driver < a.service / a.driver ? b : a));
  const ratio = worst.service / worst.driver;
  verdict(
    ratio >= 0.95,
    `service ${fixed(worst.service)} imports/s = ${fixed(ratio, 3)} × driver ${fixed(worst.driver)} (${worst.label}; target ≥ 0.95)`,
  );
}

await main();
