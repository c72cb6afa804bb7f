/**
 * Importer overhead (issue 19, item 4): at a steady rate with the ordinary fakes, what the worker itself costs
 * per import, in CPU and in latency, with the time spent waiting on composer and Koji taken out.
 *
 *   npm run bench:overhead -- [--rate 50] [--events 1000] [--warmup 200] [--cpu-prof DIR] [--perf FILE]
 *
 * Three processes besides PostgreSQL and RabbitMQ: this one (publishes the events, reads the results), the fakes
 * (`bench/pipeline-environment.ts`: fake composer and fake Koji hub, the composes' outputs uploaded), and the worker
 * (`bench/overhead-worker.ts`, compiled with the project's tsc and run on plain node, as production runs it, with
 * the default configuration and LOG_LEVEL info, its log lines going to a file). After W unmeasured events (a
 * fresh worker's first seconds are logins, connections and JIT), two measured phases of N events each, published
 * R per second:
 * 1. CPU: the worker as production runs it (no tracer). Its CPU per import is the utime+stime delta of
 *    /proc/<pid>/stat over the phase divided by the imports; latency is publish → `imported_at`. With --cpu-prof
 *    the worker's V8 CPU profile of this phase is written to DIR; with --perf FILE, `perf record` samples it
 *    (on-CPU only, which on a busy machine is the profile to believe: bench/cpu-profile-summary.ts says why and
 *    summarises either). A profiler costs CPU of its own, so a figure run is one without either.
 * 2. Overhead: the worker gets a tracer whose span processor adds up, per import attempt, the time inside the
 *    service's composer and Koji call spans (src/telemetry/calls.ts: the whole call as the importer sees it,
 *    request written to reply parsed; two at once count once). Overhead = publish → `imported_at` minus that.
 *    The tracer costs CPU of its own (AsyncLocalStorage), printed beside phase 1's, so this overhead is if
 *    anything overstated.
 * BENCH_WORKER_NODE_ARGS passes node flags to the worker (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" for a
 * profile of its whole life, or "--trace-deopt"); its working directory is .tmp/bench-overhead.
 * Ends with `PASS` or `MISS` against the targets: overhead p50 < 10 ms and p99 < 50 ms.
 */
import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadConfig } from "../src/config/load.js";
import { EventPublisher } from "../src/queue/publisher.js";
import { declareTopology, deleteTopology } from "../src/queue/topology.js";
import { namesFromConfig } from "../src/service/admin.js";
import { ADMIN_URL, createBenchDatabase } from "./bench-database.js";
import { compileBenchScript } from "./compile-script.js";
import { cpuSecondsBetween, cpuSnapshot, machineBusySeconds } from "./cpu-by-process.js";
import { meanStages, stageTimes } from "./latency-breakdown.js";
import { startPipelineEnvironment } from "./pipeline-environment-process.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WORK = join(ROOT, ".tmp", "bench-overhead");
const TARGET_P50_MS = 10;
const TARGET_P99_MS = 50;

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "50" },
    events: { type: "string", default: "1000" },
    warmup: { type: "string", default: "200" },
    "cpu-prof": { type: "string" },
    "cpu-prof-interval-us": { type: "string", default: "250" },
    perf: { type: "string" },
  },
});
const RATE = Number(args.rate);
const N = Number(args.events);
const WARMUP = Number(args.warmup);
const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const tag = `oki_overhead_${process.pid}`;

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** Children die with the bench, also when it is interrupted: a stray fakes' process would skew the next run. */
const children: ChildProcess[] = [];
const killChildren = () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
};
process.once("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, async () => {
    killChildren();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await Promise.race([
      admin
        .connect()
        .then(() => admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`))
        .catch(() => undefined),
      sleep(5000),
    ]);
    process.exit(130);
  });

/** The worker and what it says over IPC: finished-import count, per-attempt call times, command replies. */
class WorkerProcess {
  finished = 0;
  readonly callsMs = new Map<string, number>();
  private waiters: Array<() => void> = [];

  started = false;
  exited = false;

  constructor(readonly child: ChildProcess) {
    child.once("exit", () => {
      this.exited = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.on("message", (message: Record<string, unknown>) => {
      this.started = true;
      if (typeof message.finished === "number") this.finished = message.finished;
      const attempt = message.attempt as { composeId?: string; callsMs: number } | undefined;
      if (attempt?.composeId)
        this.callsMs.set(attempt.composeId, (this.callsMs.get(attempt.composeId) ?? 0) + attempt.callsMs);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async until(done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.exited) throw new Error(`the worker exited (${this.child.exitCode ?? this.child.signalCode})`);
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  async command(cmd: Record<string, unknown>, reply: string): Promise<void> {
    let answered = false;
    const listener = (message: Record<string, unknown>) => {
      if (message.ok === reply) answered = true;
    };
    this.child.on("message", listener);
    this.child.send(cmd);
    await this.until(() => answered);
    this.child.off("message", listener);
  }
}

/**
 * perf record of one process, sampled only while on a core. stop() writes FILE (JIT code named from V8's dump by
 * `perf inject --jit`) and FILE.txt (`perf script`, what bench/cpu-profile-summary.ts reads), then removes V8's
 * dump and the thousands of small files perf inject made from it.
 */
function startPerf(pid: number, file: string): () => Promise<void> {
  const raw = `${file}.raw`;
  const perf = spawn(
    "perf",
    ["record", "-e", "cpu-clock", "-F", "999", "-g", "-k", "mono", "-o", raw, "-p", String(pid)],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  return async () => {
    const exited = new Promise((done) => perf.once("exit", done));
    perf.kill("SIGINT");
    await exited;
    execFileSync("perf", ["inject", "--jit", "-i", raw, "-o", file], { stdio: "inherit" });
    const script = execFileSync("perf", ["script", "-F", "period,ip,sym,dso", "-i", file], {
      maxBuffer: 2 ** 31 - 1,
      stdio: ["ignore", "pipe", "ignore"],
    });
    writeFileSync(`${file}.txt`, script);
    rmSync(raw);
    for (const name of readdirSync(WORK))
      if (/^(jitted-\d+-\d+\.so|jit-\d+\.dump|isolate-.*-v8\.log)$/.test(name)) rmSync(join(WORK, name));
  };
}

interface PhaseResult {
  latencies: Map<string, number>;
  elapsed: number;
  cpu: Map<string, number>;
  busy: number;
}

async function main() {
  console.log(
    `bench:overhead ${new Date().toISOString()}, ${availableParallelism()} cores, load (1/5/15 min) ${load()}`,
  );
  const database = await createBenchDatabase(tag);
  const dbUrl = new URL(database.url);
  const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
  try {
    await measure(dbUrl, pool);
  } finally {
    killChildren();
    await pool.end();
    await database.drop();
  }
}

async function measure(dbUrl: URL, pool: pg.Pool) {
  const script = compileBenchScript(WORK, "bench/overhead-worker.ts");
  console.log(`preparing ${WARMUP + 2 * N} composes in the fakes' process ...`);
  const fakes = await startPipelineEnvironment(WARMUP + 2 * N, join(WORK, `${tag}.events.json`));
  children.push(fakes.process);
  const { events } = fakes;
  // No exporter: phase 1 is the worker without tracing, and phase 2 brings its own tracer.
  const { OTEL_EXPORTER_OTLP_ENDPOINT: _exporter, ...inherited } = process.env;
  const workerEnv = {
    ...inherited,
    DATABASE_URL: dbUrl.toString(),
    AMQP_URL,
    AMQP_EXCHANGE: `${tag}.events`,
    AMQP_QUEUE: `${tag}.work`,
    KOJI_HUBS: fakes.kojiHubs,
    COMPOSER_URL: fakes.composerUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
  const config = loadConfig(workerEnv);
  const publisher = await EventPublisher.open(AMQP_URL);
  await declareTopology(publisher.channel, namesFromConfig(config));
  const logFile = join(WORK, `${tag}.worker.log`);
  const perfFile = args.perf ? resolve(args.perf) : undefined;
  const child = fork(script, [], {
    env: workerEnv,
    // With --perf-prof V8 writes each function it compiles, with the time, to jit-<pid>.dump in the working
    // directory: `perf inject --jit` names JIT code from it, right even where V8 moved code or reused addresses.
    execArgv: [
      ...(perfFile ? ["--perf-prof", "--interpreted-frames-native-stack"] : []),
      ...(process.env.BENCH_WORKER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ],
    cwd: WORK,
    stdio: ["ignore", openSync(logFile, "w"), "inherit", "ipc"],
  });
  children.push(child);
  const worker = new WorkerProcess(child);
  const workerExit = new Promise<void>((done) => child.once("exit", () => done()));
  await worker.until(() => worker.started);

  const publishedAt = new Map<string, number>();
  const publishAtRate = async (batch: ReadonlyArray<{ compose_id: string }>) => {
    const started = Date.now();
    for (const [i, event] of batch.entries()) {
      const due = started + (1000 * i) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      publishedAt.set(event.compose_id, Date.now());
      await publisher.publishJson(config.AMQP_EXCHANGE, config.AMQP_ROUTING_KEY, event);
    }
  };

  const runPhase = async (batch: ReadonlyArray<{ compose_id: string }>): Promise<PhaseResult> => {
    const target = worker.finished + batch.length;
    const processes = {
      worker: worker.child.pid,
      "fakes (composer + koji)": fakes.process.pid,
      bench: process.pid,
    };
    const before = cpuSnapshot(processes);
    const busyBefore = machineBusySeconds();
    const started = Date.now();
    await publishAtRate(batch);
    await worker.until(() => worker.finished >= target);
    const elapsed = (Date.now() - started) / 1000;
    const cpu = cpuSecondsBetween(before, cpuSnapshot(processes));
    const busy = machineBusySeconds() - busyBefore;
    const ids = batch.map((e) => e.compose_id);
    const { rows } = await pool.query<{ compose_id: string; at: string }>(
      `SELECT compose_id, extract(epoch FROM imported_at) * 1000 AS at FROM imports
       WHERE state = 'imported' AND compose_id = ANY($1)`,
      [ids],
    );
    const latencies = new Map(
      rows.map((r) => [r.compose_id, Number(r.at) - (publishedAt.get(r.compose_id) ?? Number.NaN)]),
    );
    return { latencies, elapsed, cpu, busy };
  };

  const warmup = events.slice(0, WARMUP);
  const cpuBatch = events.slice(WARMUP, WARMUP + N);
  const spanBatch = events.slice(WARMUP + N, WARMUP + 2 * N);

  console.log(`warm-up: ${WARMUP} events at ${RATE}/s ...`);
  await publishAtRate(warmup);
  await worker.until(() => worker.finished >= WARMUP);

  const loadBefore = load();
  console.log(`phase 1 (CPU, no tracer): ${N} events at ${RATE}/s ...`);
  const profileDir = args["cpu-prof"] ? resolve(args["cpu-prof"]) : undefined;
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    await worker.command(
      { cmd: "profile-start", intervalUs: Number(args["cpu-prof-interval-us"]) },
      "profile-start",
    );
  }
  const stopPerf = perfFile && child.pid ? startPerf(child.pid, perfFile) : undefined;
  const cpuPhase = await runPhase(cpuBatch);
  await stopPerf?.();
  const profileFile = profileDir ? join(profileDir, `worker-${Date.now()}.cpuprofile`) : undefined;
  if (profileFile) await worker.command({ cmd: "profile-stop", file: profileFile }, "profile-stop");

  console.log(`phase 2 (overhead, call-time tracer): ${N} events at ${RATE}/s ...`);
  await worker.command({ cmd: "spans" }, "spans");
  const spanPhase = await runPhase(spanBatch);
  const loadAfter = load();

  const perImport = (phase: PhaseResult, label: string) =>
    (1000 * (phase.cpu.get(label) ?? 0)) / Math.max(1, phase.latencies.size);
  const sorted = (values: Iterable<number>) => [...values].sort((a, b) => a - b);
  const describe = (values: readonly number[]) =>
    `p50 ${quantile(values, 0.5).toFixed(1)} ms, p99 ${quantile(values, 0.99).toFixed(1)} ms, max ${(values.at(-1) ?? Number.NaN).toFixed(1)} ms`;

  console.log(`\nload (1/5/15 min) before the measured phases ${loadBefore}, after ${loadAfter}`);
  for (const [name, phase] of [
    ["phase 1 (no tracer)", cpuPhase],
    ["phase 2 (tracer)", spanPhase],
  ] as const) {
    console.log(
      `${name}: ${phase.latencies.size}/${N} imported in ${phase.elapsed.toFixed(1)} s; machine busy ${((100 * phase.busy) / (availableParallelism() * phase.elapsed)).toFixed(0)}%`,
    );
    console.log(`  publish → imported: ${describe(sorted(phase.latencies.values()))}`);
    console.log(
      `  CPU ms per import: worker ${perImport(phase, "worker").toFixed(2)}, postgres ${perImport(phase, "postgres").toFixed(2)}, fakes ${perImport(phase, "fakes (composer + koji)").toFixed(2)}, rabbitmq ${perImport(phase, "beam.smp").toFixed(2)}`,
    );
  }

  const overheads: number[] = [];
  const calls: number[] = [];
  for (const [composeId, latency] of spanPhase.latencies) {
    const inside = worker.callsMs.get(composeId);
    if (inside === undefined) continue;
    calls.push(inside);
    overheads.push(latency - inside);
  }
  const overheadSorted = sorted(overheads);
  console.log(
    `\nphase 2, per import (${overheads.length} with their call times): time inside composer and Koji calls ${describe(sorted(calls))}`,
  );
  console.log(`importer overhead (publish → imported minus calls): ${describe(overheadSorted)}`);
  const byStage = [...(await stageTimes(pool, publishedAt))]
    .filter(([composeId]) => spanPhase.latencies.has(composeId))
    .map(([, times]) => times);
  console.log("phase 2, mean ms per stage (from the attempt log; steps include their calls):");
  for (const [stage, value] of meanStages(byStage))
    console.log(`  ${stage.padEnd(14)} ${value.toFixed(1).padStart(7)}`);
  if (profileFile)
    console.log(
      `worker V8 CPU profile of phase 1: npx tsx bench/cpu-profile-summary.ts ${profileFile} --per ${N}`,
    );
  if (perfFile)
    console.log(
      `worker perf samples (on-CPU only) of phase 1: npx tsx bench/cpu-profile-summary.ts ${perfFile}.txt --per ${N}`,
    );
  console.log(`worker log: ${logFile}`);

  worker.child.send({ cmd: "stop" });
  await workerExit;
  await deleteTopology(publisher.channel, namesFromConfig(config));
  await publisher.close();

  const p50 = quantile(overheadSorted, 0.5);
  const p99 = quantile(overheadSorted, 0.99);
  const complete = overheads.length === N && cpuPhase.latencies.size === N;
  const met = complete && p50 < TARGET_P50_MS && p99 < TARGET_P99_MS;
  console.log(
    `${met ? "PASS" : "MISS"} overhead p50 ${p50.toFixed(1)} ms (target < ${TARGET_P50_MS}), p99 ${p99.toFixed(1)} ms (target < ${TARGET_P99_MS}); worker CPU ${perImport(cpuPhase, "worker").toFixed(2)} ms/import at ${RATE}/s${complete ? "" : `; only ${overheads.length}/${N} imports measured`}`,
  );
}

await main();
