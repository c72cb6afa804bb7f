import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type Config, loadConfig } from "../src/config/load.js";
import type { KojiHubConfig } from "../src/config/schema.js";
import { EventPublisher } from "../src/queue/publisher.js";
import { declareTopology, deleteTopology, type TopologyNames } from "../src/queue/topology.js";
import { namesFromConfig } from "../src/service/admin.js";
import { type BenchDatabase, createBenchDatabase } from "./bench-database.js";

const ROOT = new URL("../", import.meta.url).pathname;
const CLI = `${ROOT}dist/cli.js`;
const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

/** One `node dist/cli.js worker` process of the built service; its log in .tmp/bench/. */
export interface WorkerProcess {
  child: ChildProcess;
  logFile: string;
  /** With `heapProbe`: a full collection in the worker, then its heap in use and RSS (bench/heap-probe.cjs). */
  heap(): Promise<{ heapUsed: number; rss: number }>;
  stop(): Promise<void>;
}

export interface ImportProgress {
  rows: number;
  final: number;
  imported: number;
  /** Attempts the imports used, all together. */
  attempts: number;
  /** When the last import reached `imported`, ms since the epoch (PostgreSQL's clock, the machine's). */
  lastImportedAt: number | undefined;
}

/**
 * The whole service on a database and broker names of its own (the shared PostgreSQL and RabbitMQ), its workers
 * separate processes of the built CLI, as deployed: the bench publishes composer's events and reads the imports
 * table for progress.
 */
export class ServiceRun {
  private workers = new Set<WorkerProcess>();
  private started = 0;

  private constructor(
    readonly tag: string,
    readonly env: Record<string, string>,
    readonly config: Config,
    readonly names: TopologyNames,
    readonly pool: pg.Pool,
    private readonly publisher: EventPublisher,
    private readonly database: BenchDatabase,
  ) {}

  /**
   * `overrides` are the worker's environment beyond the run's own names and the fakes' addresses (RETRY_DELAYS,
   * AMQP_PREFETCH, ...); LOG_LEVEL is warn, into the worker's log file.
   */
  static async open(
    label: string,
    outside: { kojiHubs: KojiHubConfig[]; composerUrl: string },
    overrides: Record<string, string> = {},
  ): Promise<ServiceRun> {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (the bench:* scripts do)`);
    const tag = `oki_bench_${label}_${process.pid}`;
    const database = await createBenchDatabase(tag);
    const dbUrl = new URL(database.url);
    const env: Record<string, string> = {
      DATABASE_URL: dbUrl.toString(),
      AMQP_URL,
      AMQP_EXCHANGE: `${tag}.events`,
      AMQP_QUEUE: `${tag}.work`,
      KOJI_HUBS: JSON.stringify(outside.kojiHubs),
      COMPOSER_URL: outside.composerUrl,
      LOG_LEVEL: "warn",
      ...overrides,
    };
    const config = loadConfig(env);
    const names = namesFromConfig(config);
    const publisher = await EventPublisher.open(AMQP_URL);
    await declareTopology(publisher.channel, names);
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
    return new ServiceRun(tag, env, config, names, pool, publisher, database);
  }

  startWorker(options: { heapProbe?: boolean } = {}): WorkerProcess {
    this.started += 1;
    mkdirSync(`${ROOT}.tmp/bench`, { recursive: true });
    const logFile = `${ROOT}.tmp/bench/${this.tag}.worker-${this.started}.log`;
    const log = createWriteStream(logFile);
    // BENCH_WORKER_NODE_ARGS: node flags for the workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them.
    const nodeArgs = [
      ...(process.env.BENCH_WORKER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      ...(options.heapProbe ? ["--expose-gc", "-r", `${ROOT}bench/heap-probe.cjs`] : []),
    ];
    const child = spawn(process.execPath, [...nodeArgs, CLI, "worker"], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log);
    const probes: Array<(probe: { heapUsed: number; rss: number }) => void> = [];
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.startsWith("heap-probe ")) probes.shift()?.(JSON.parse(line.slice("heap-probe ".length)));
      else log.write(`${line}\n`);
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const worker: WorkerProcess = {
      child,
      logFile,
      heap: () =>
        new Promise((resolve) => {
          probes.push(resolve);
          child.kill("SIGUSR2");
        }),
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
        this.workers.delete(worker);
      },
    };
    this.workers.add(worker);
    return worker;
  }

  async publish(events: ReadonlyArray<unknown>): Promise<void> {
    for (const event of events)
      await this.publisher.publishJson(this.names.exchange, this.names.routingKey, event);
  }

  async progress(): Promise<ImportProgress> {
    const { rows } = await this.pool.query<{
      rows: string;
      final: string;
      imported: string;
      attempts: string | null;
      last: string | null;
    }>(
      `SELECT count(*) AS rows, count(*) FILTER (WHERE state IN ('imported', 'failed', 'refunded')) AS final,
              count(*) FILTER (WHERE state = 'imported') AS imported, sum(attempts) AS attempts,
              extract(epoch FROM max(imported_at)) * 1000 AS last
       FROM imports`,
    );
    const row = rows[0];
    return {
      rows: Number(row?.rows ?? 0),
      final: Number(row?.final ?? 0),
      imported: Number(row?.imported ?? 0),
      attempts: Number(row?.attempts ?? 0),
      lastImportedAt: row?.last ? Number(row.last) : undefined,
    };
  }

  /**
   * Imports per second in the steady state: between the 10th and the 90th percentile of the imports that reached
   * `imported` since `sinceMs`, so the start (the first deliveries) and the end (the last few in flight, fewer than
   * the concurrency) weigh nothing. A run's whole-time rate is lower by both edges, and more so the more imports
   * run at once.
   */
  async steadyRate(sinceMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ at: string }>(
      `SELECT extract(epoch FROM imported_at) * 1000 AS at FROM imports
       WHERE state = 'imported' AND imported_at >= to_timestamp($1 / 1000.0) ORDER BY imported_at`,
      [sinceMs],
    );
    const times = rows.map((r) => Number(r.at));
    const first = Math.floor(0.1 * times.length);
    const last = Math.ceil(0.9 * times.length) - 1;
    const span = ((times[last] ?? 0) - (times[first] ?? 0)) / 1000;
    return span > 0 ? (last - first) / span : Number.NaN;
  }

  /** Until `total` imports are final; `report` is told the progress every `everyMs`. */
  async waitFinal(
    total: number,
    options: { timeoutMs: number; everyMs?: number; report?: (p: ImportProgress) => void },
  ): Promise<ImportProgress> {
    const deadline = Date.now() + options.timeoutMs;
    let reported = Date.now();
    for (;;) {
      const progress = await this.progress();
      if (progress.final >= total) return progress;
      if (Date.now() > deadline)
        throw new Error(`only ${progress.final} of ${total} imports final after ${options.timeoutMs} ms`);
      if (options.report && Date.now() - reported >= (options.everyMs ?? 10_000)) {
        reported = Date.now();
        options.report(progress);
      }
      // Each look counts every row (a scan of ten thousand in the drain bench): often enough to stop soon after
      // the last import, rarely enough not to weigh on the PostgreSQL the run measures. The rates come from the
      // rows' own timestamps, not from when this noticed.
      await sleep(500);
    }
  }

  /** Messages in the dead-letter queue. */
  async deadLetters(): Promise<number> {
    return (await this.publisher.channel.checkQueue(this.names.deadLetterQueue)).messageCount;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((worker) => worker.stop()));
    await deleteTopology(this.publisher.channel, this.names).catch(() => undefined);
    await this.publisher.close();
    // The drop below ends every session on the database; one of the pool's, still closing, would hear of it.
    this.pool.on("error", () => undefined);
    await this.pool.end();
    await this.database.drop();
  }
}
