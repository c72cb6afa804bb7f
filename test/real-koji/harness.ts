import { type ChildProcess, spawn } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import amqp, { type Channel, type ChannelModel, type GetMessage } from "amqplib";
import type pg from "pg";
import { loadConfig } from "../../src/config/load.js";
import type { KojiHubConfig } from "../../src/config/schema.js";
import {
  declareTopology,
  deleteTopology,
  EventPublisher,
  type TopologyNames,
} from "../../src/queue/index.js";
import { namesFromConfig } from "../../src/service/admin.js";
import { createPool, getImport, type ImportRow, runMigrations } from "../../src/store/index.js";
import { type FakeComposer, startFakeComposer } from "../fakes/composer/server.js";
import { uploadFile } from "../fakes/composer-worker/upload.js";
import { openUploadClient, type UploadClient } from "../fakes/composer-worker/upload-client.js";
import { artifactMd5, artifactStream } from "../fixtures/artifacts.js";
import { COMPOSES, loadCompose, uploadedFiles } from "../fixtures/composes.js";
import { createTestDatabase, runPrefix, type TestDatabase, testAmqpUrl } from "../support/servers.js";
import { ensureTask, type RealHub } from "./realhub.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = `${ROOT}dist/cli.js`;

/** A worker process of the built service (`node dist/cli.js worker`), its log in a file of the run's own. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Its pino log, one JSON line each. */
  logFile: string;
  /** The exit signal or code. */
  exited: Promise<NodeJS.Signals | number | null>;
  kill(signal?: NodeJS.Signals): Promise<NodeJS.Signals | number | null>;
}

export interface PreparedCompose {
  composeId: string;
  event: Record<string, any>;
  nvr: string;
  /** The files composer's worker uploaded, name and size. */
  files: Array<{ filename: string; size: number }>;
  /** Composer's koji-init reservation, when asked for. */
  reservation?: { build_id: number; token: string };
}

export interface PrepareOptions {
  fixture?: string;
  /** Composer reserves the build (CGInitBuild as its koji-init job does) and names it in the compose's logs. */
  composerReservation?: boolean;
  /** The first image's size: a large one makes the hub's CGImport take seconds (it checksums every output). */
  imageBytes?: number;
  /** Upload the outputs (default); false leaves the upload directory empty. */
  upload?: boolean;
  /** The hub URL the event names (default: the vhost layout's); the importer must have it in KOJI_HUBS. */
  server?: string;
  /** Outputs uploaded with other bytes of the same size: the hub's CGImport refuses their checksums. */
  corrupt?: boolean;
}

/**
 * The built service against the real hub: a database and queue names of the run's own on the shared PostgreSQL
 * and RabbitMQ, the fake composer, and worker processes of `dist/cli.js`. The test acts as composer's worker on
 * the hub itself: it reserves (koji-init) and uploads with the osbuild certificate, as composer does.
 */
export interface RealHubHarness {
  hub: RealHub;
  composer: FakeComposer;
  pool: pg.Pool;
  env: Record<string, string>;
  names: TopologyNames;
  admin: Channel;
  /** osbuild's client on the hub (vhost layout), for what the test reads and does as composer. */
  koji: UploadClient;
  startWorker(overrides?: Record<string, string>): WorkerProcess;
  prepareCompose(options?: PrepareOptions): Promise<PreparedCompose>;
  publish(event: unknown): Promise<void>;
  waitFor(
    composeId: string,
    check: (row: ImportRow | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<ImportRow>;
  waitForState(composeId: string, states: string[], timeoutMs?: number): Promise<ImportRow>;
  nextDeadLetter(timeoutMs?: number): Promise<GetMessage>;
  deadLetterCount(): Promise<number>;
  close(): Promise<void>;
}

export async function createRealHubHarness(
  hub: RealHub,
  label: string,
  options: { kojiHubs?: KojiHubConfig[]; env?: Record<string, string> } = {},
): Promise<RealHubHarness> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run test:real-koji builds it first`);
  const database: TestDatabase = await createTestDatabase(label);
  await runMigrations(database.url);
  const pool = createPool(database.url, 4);
  const composer = await startFakeComposer();
  const prefix = runPrefix(label);
  const logDir = `${ROOT}.tmp/real-koji`;
  mkdirSync(logDir, { recursive: true });
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    AMQP_URL: testAmqpUrl(),
    AMQP_EXCHANGE: `${prefix}.events`,
    AMQP_QUEUE: `${prefix}.work`,
    RETRY_DELAYS: "200ms,500ms",
    MAX_ATTEMPTS: "6",
    COMPOSER_URL: composer.url,
    COMPOSER_MAX_RETRIES: "0",
    KOJI_HUBS: JSON.stringify(options.kojiHubs ?? [hub.kojiHub()]),
    UPLOAD_WAIT: "1s",
    LOG_LEVEL: "info",
    ADMIN_PORT: "0",
    ...options.env,
  };
  const names: TopologyNames = namesFromConfig(loadConfig(env));
  const publisher = await EventPublisher.open(env.AMQP_URL as string);
  const model: ChannelModel = await amqp.connect(env.AMQP_URL as string);
  const admin = await model.createChannel();
  await declareTopology(admin, names);
  // As composer's worker: osbuild's own session on the hub (reservations, uploads, reading builds back).
  const osbuild = hub.kojiHub();
  if (osbuild.auth !== "ssl") throw new Error("composer's side uploads with the osbuild certificate");
  const composerSide = await openUploadClient(osbuild);
  const koji = composerSide.client;
  const workers = new Set<WorkerProcess>();
  let workerCount = 0;

  const harness: RealHubHarness = {
    hub,
    composer,
    pool,
    env,
    names,
    admin,
    koji,
    startWorker(overrides = {}) {
      workerCount += 1;
      const logFile = `${logDir}/${prefix}.worker-${workerCount}.log`;
      const log = createWriteStream(logFile);
      const child = spawn(process.execPath, [CLI, "worker"], {
        cwd: ROOT,
        env: { ...process.env, ...env, ...overrides },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.once("exit", (code, signal) => resolve(signal ?? code)),
      );
      const worker: WorkerProcess = {
        child,
        logFile,
        exited,
        kill(signal = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
      workers.add(worker);
      void exited.then(() => workers.delete(worker));
      return worker;
    },
    async prepareCompose(prepare = {}) {
      const composeId = randomUUID();
      const bodies = loadCompose(prepare.fixture ?? COMPOSES.success);
      const koji = bodies.event.koji as Record<string, unknown>;
      const release = `rk${Date.now().toString(36)}.${composeId.slice(0, 8)}`;
      const taskId = randomInt(10_000_000, 2_000_000_000);
      await ensureTask(hub, taskId);
      const directory = `osbuild-cg/osbuild-composer-koji-${composeId}`;
      const event = {
        ...bodies.event,
        compose_id: composeId,
        koji: {
          ...koji,
          server: prepare.server ?? hub.url,
          task_id: taskId,
          release,
          upload_directory: directory,
        },
      } as Record<string, any>;
      const logs = bodies.logs as Record<string, any>;
      if (prepare.imageBytes !== undefined) {
        const image = firstImage(logs);
        image.size = prepare.imageBytes;
        image.checksum = artifactMd5(image.filename, prepare.imageBytes);
      }
      let reservation: PreparedCompose["reservation"];
      if (prepare.composerReservation) {
        const made = await harness.koji.CGInitBuild({
          name: String(koji.name),
          version: String(koji.version),
          release,
        });
        reservation = { build_id: made.build_id, token: made.token };
        logs.koji = { ...(logs.koji as object | undefined), init: reservation, import: {} };
      } else if (logs.koji) {
        delete logs.koji.init;
      }
      const files = uploadedFiles(logs);
      if (prepare.upload !== false) {
        for (const file of files) {
          await uploadFile(harness.koji, {
            directory,
            filename: file.filename,
            source: artifactStream(prepare.corrupt ? `corrupt-${file.filename}` : file.filename, file.size),
          });
        }
      }
      composer.addCompose(composeId, { status: bodies.status, logs, manifests: bodies.manifests });
      const nvr = `${String(koji.name)}-${String(koji.version)}-${release}`;
      return { composeId, event, nvr, files, ...(reservation ? { reservation } : {}) };
    },
    async publish(event) {
      await publisher.publishJson(names.exchange, names.routingKey, event);
    },
    async waitFor(composeId, check, timeoutMs = 120_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const row = await getImport(pool, composeId);
        if (check(row)) return row as ImportRow;
        if (Date.now() > end) throw new Error(`import ${composeId}: still ${row?.state ?? "absent"}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async waitForState(composeId, states, timeoutMs = 120_000) {
      return harness.waitFor(composeId, (row) => row !== undefined && states.includes(row.state), timeoutMs);
    },
    async nextDeadLetter(timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const message = await admin.get(names.deadLetterQueue, { noAck: true });
        if (message) return message;
        if (Date.now() > end) throw new Error(`no dead letter arrived within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async deadLetterCount() {
      return (await admin.checkQueue(names.deadLetterQueue)).messageCount;
    },
    async close() {
      await Promise.all([...workers].map((worker) => worker.kill("SIGTERM")));
      await deleteTopology(admin, names).catch(() => undefined);
      await publisher.close();
      await model.close().catch(() => undefined);
      await composerSide.close();
      await composer.close();
      await pool.end();
      await database.drop();
    },
  };
  return harness;
}

function firstImage(logs: Record<string, any>): { filename: string; size: number; checksum: string } {
  for (const build of logs.image_builds as Array<{
    target_results?: Array<{ name: string; options: any }>;
  }>) {
    for (const target of build.target_results ?? [])
      if (target.name === "org.osbuild.koji") return target.options.image;
  }
  throw new Error("the compose has no Koji image");
}
