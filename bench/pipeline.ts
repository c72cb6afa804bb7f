import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { pino } from "pino";
import { loadConfig } from "../src/config/load.js";
import { createMetrics } from "../src/metrics.js";
import { QueueConsumer } from "../src/queue/consumer.js";
import { EventPublisher } from "../src/queue/publisher.js";
import { declareTopology, deleteTopology, topologyNames } from "../src/queue/topology.js";
import { namesFromConfig } from "../src/service/admin.js";
import { startWorker } from "../src/service/worker.js";
import { createBenchDatabase } from "./bench-database.js";
import { cpuSecondsBetween, cpuSnapshot, machineBusySeconds } from "./cpu-by-process.js";
import { meanStages, stageTimes } from "./latency-breakdown.js";
import { startPipelineEnvironment } from "./pipeline-environment-process.js";

/**
 * N compose-finished events through the whole service (real RabbitMQ and PostgreSQL; the fakes in their own
 * process), beside a null consumer (consume + ack only) on the same broker in the same run. Prints imports per
 * second, publish→imported latency (p50/p99), the importer process's RSS and the CPU each participant used.
 * Run: npx tsx bench/pipeline.ts [N] [--rate R] [--warmup W]
 * Without --rate the N events are published at once (the rate is the most the service can do; the latency is
 * mostly the backlog draining); with --rate they are published R per second, evenly spaced, so the latency is
 * one import's when the service keeps up. W more events (default 200) go through first, unmeasured: the first
 * seconds of a fresh worker (Koji login, TLS and database connections, JIT) are not its steady state.
 * BENCH_FAKES_NODE_ARGS passes node flags to the fakes' process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), to
 * profile the fakes the way `node --cpu-prof --import tsx bench/pipeline.ts` profiles the worker.
 */
const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { rate: { type: "string" }, warmup: { type: "string", default: "200" } },
});
const N = Number(positionals[0] ?? "2000");
const RATE = options.rate === undefined ? undefined : Number(options.rate);
const WARMUP = Number(options.warmup);
const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const tag = `oki_bench_${process.pid}`;
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

async function nullConsumerRate(): Promise<number> {
  const names = topologyNames({
    exchange: `${tag}.null.events`,
    routingKey: "k",
    queue: `${tag}.null`,
    retryDelaysMs: [1000],
  });
  const publisher = await EventPublisher.open(AMQP_URL);
  await declareTopology(publisher.channel, names);
  const body = { hello: "x".repeat(600) };
  for (let i = 0; i < N; i++) await publisher.publishJson(names.exchange, names.routingKey, body);
  let seen = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const started = Date.now();
  const consumer = new QueueConsumer({
    url: AMQP_URL,
    names,
    prefetch: 8,
    logger: pino({ level: "silent" }),
    handler: async () => {
      seen += 1;
      if (seen === N) done();
      return { action: "ack" };
    },
  });
  await consumer.start();
  await finished;
  const rate = N / ((Date.now() - started) / 1000);
  await consumer.stop();
  await deleteTopology(publisher.channel, names);
  await publisher.close();
  return rate;
}

async function main() {
  const database = await createBenchDatabase(tag);
  const dbUrl = new URL(database.url);

  console.log(`preparing ${WARMUP + N} composes in the fakes' process ...`);
  const fakes = await startPipelineEnvironment(WARMUP + N, `/tmp/${tag}.json`);
  const prepared = fakes.events;
  const warmupEvents = prepared.slice(0, WARMUP);
  const events = prepared.slice(WARMUP);

  const nullRate = await nullConsumerRate();

  const config = loadConfig({
    DATABASE_URL: dbUrl.toString(),
    AMQP_URL,
    AMQP_EXCHANGE: `${tag}.events`,
    AMQP_QUEUE: `${tag}.work`,
    AMQP_PREFETCH: process.env.BENCH_PREFETCH ?? "16",
    DATABASE_POOL_SIZE: "40",
    KOJI_HUBS: fakes.kojiHubs,
    COMPOSER_URL: fakes.composerUrl,
    LOG_LEVEL: "silent",
  });
  const metrics = createMetrics();
  const worker = await startWorker(config, pino({ level: "silent" }), metrics);
  // The worker declares the exchange and queues as it starts consuming; a publish before that finds no exchange.
  await worker.consumer.whenConsuming();
  const publisher = await EventPublisher.open(AMQP_URL);
  // The worker's own counter says when imports are done: polling the imports table would add its scans to the
  // PostgreSQL CPU this bench measures.
  const finished = async () =>
    (await metrics.importsFinished.get()).values.reduce((sum, { value }) => sum + value, 0);
  for (const event of warmupEvents)
    await publisher.publishJson(config.AMQP_EXCHANGE, config.AMQP_ROUTING_KEY, event);
  while ((await finished()) < WARMUP) await sleep(20);

  let peakRss = process.memoryUsage().rss;
  const rssSamples: number[] = [];
  const heapSamples: number[] = [];
  const sampler = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    peakRss = Math.max(peakRss, rss);
    rssSamples.push(rss);
    heapSamples.push(heapUsed);
  }, 100);
  const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
  const publishedAt = new Map<string, number>();
  const processes = { "importer (bench process)": process.pid, "fakes (composer + koji)": fakes.process.pid };
  const cpuBefore = cpuSnapshot(processes);
  const busyBefore = machineBusySeconds();
  const started = Date.now();
  for (const [i, event] of events.entries()) {
    if (RATE !== undefined) {
      const due = started + (1000 * i) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    publishedAt.set(event.compose_id, Date.now());
    await publisher.publishJson(config.AMQP_EXCHANGE, config.AMQP_ROUTING_KEY, event);
  }
  while ((await finished()) < WARMUP + N) await sleep(20);
  const elapsed = (Date.now() - started) / 1000;
  const cpuUsed = cpuSecondsBetween(cpuBefore, cpuSnapshot(processes));
  const busy = machineBusySeconds() - busyBefore;
  const cores = availableParallelism();
  clearInterval(sampler);
  const { rows } = await pool.query(
    "SELECT compose_id, state, extract(epoch from imported_at) * 1000 AS at FROM imports",
  );
  const imported = rows.filter((r) => r.state === "imported" && publishedAt.has(r.compose_id));
  const latencies = imported
    .map((r) => Number(r.at) - (publishedAt.get(r.compose_id) ?? 0))
    .sort((a, b) => a - b);
  const rate = imported.length / elapsed;
  // Throughput over time: a rate that falls as the run goes on points at something that grows with the run.
  const perTenth = Array.from({ length: 10 }, () => 0);
  for (const r of imported) {
    const tenth = Math.min(9, Math.floor((10 * (Number(r.at) - started)) / (1000 * elapsed)));
    perTenth[tenth] = (perTenth[tenth] ?? 0) + 1;
  }
  const tenth = Math.max(1, Math.floor(rssSamples.length / 10));
  console.log(`\nnull consumer (consume + ack): ${nullRate.toFixed(0)} msg/s`);
  console.log(
    `${RATE === undefined ? `published: all ${N} at once` : `published: ${RATE} events/s`}, after ${WARMUP} unmeasured`,
  );
  console.log(
    `importer: ${imported.length}/${N} imported in ${elapsed.toFixed(1)} s = ${rate.toFixed(1)} imports/s (${((100 * rate) / nullRate).toFixed(1)}% of null)`,
  );
  console.log(
    `latency publish→imported: p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms`,
  );
  console.log(
    `imports/s per tenth of the run: ${perTenth.map((n) => (n / (elapsed / 10)).toFixed(0)).join(" ")}`,
  );
  const failures = await pool.query<{ step: string; error: string; n: string }>(
    `SELECT step, concat_ws(' ', error_code, '(' || left(error_message, 160) || ')') AS error, count(*) AS n
     FROM import_attempts WHERE outcome <> 'ok' GROUP BY 1, 2 ORDER BY 3 DESC`,
  );
  console.log(
    `failed attempts (then retried): ${failures.rows.map((f) => `${f.step} ${f.error} ×${f.n}`).join(", ") || "none"}`,
  );
  const byStage = [...(await stageTimes(pool, publishedAt)).values()].sort((a, b) => a.total - b.total);
  const slowest = byStage.slice(Math.floor(0.99 * byStage.length));
  console.log("mean ms per stage, all imports | slowest 1%:");
  const slowMeans = new Map(meanStages(slowest));
  const slowSeconds = new Set(slowest.map((t) => ((t.publishedAt - started) / 1000).toFixed(0)));
  for (const [stage, ms] of meanStages(byStage))
    console.log(
      `  ${stage.padEnd(14)} ${ms.toFixed(1).padStart(8)} | ${(slowMeans.get(stage) ?? 0).toFixed(1).padStart(8)}`,
    );
  console.log(
    `slowest 1% published at second(s) ${[...slowSeconds].sort((a, b) => +a - +b).join(", ")} of the run`,
  );
  console.log(
    `RSS: peak ${mb(peakRss)} MB; first tenth of the run ${mb(Math.max(...rssSamples.slice(0, tenth)))} MB, last tenth ${mb(Math.max(...rssSamples.slice(-tenth)))} MB`,
  );
  // The lowest heap of each tenth is what survived the collections in it: a leak shows as a rising floor.
  const floors = Array.from({ length: 10 }, (_, i) =>
    Math.min(...heapSamples.slice(i * tenth, (i + 1) * tenth).concat(Number.POSITIVE_INFINITY)),
  ).filter(Number.isFinite);
  console.log(`JS heap floor per tenth of the run: ${floors.map(mb).join(" ")} MB`);

  console.log(
    `CPU during the import phase (${elapsed.toFixed(1)} s wall, ${cores} cores = ${(cores * elapsed).toFixed(1)} s):`,
  );
  const listed = [...cpuUsed].slice(0, 6);
  console.log(
    `  machine busy ${busy.toFixed(1)} s (${((100 * busy) / (cores * elapsed)).toFixed(0)}%), of which the processes below ${listed.reduce((sum, [, s]) => sum + s, 0).toFixed(1)} s`,
  );
  for (const [label, seconds] of listed)
    console.log(
      `  ${label.padEnd(26)} ${seconds.toFixed(1).padStart(6)} s  ${((1000 * seconds) / N).toFixed(1)} ms/import`,
    );

  await worker.stop();
  await deleteTopology(publisher.channel, namesFromConfig(config));
  await publisher.close();
  await pool.end();
  fakes.process.kill("SIGTERM");
  await database.drop();
}

await main();
