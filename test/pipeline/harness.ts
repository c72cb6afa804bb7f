import { randomUUID } from "node:crypto";
import amqp, { type Channel, type ChannelModel } from "amqplib";
import type pg from "pg";
import { pino } from "pino";
import { type Config, loadConfig } from "../../src/config/load.js";
import { KojiHubs } from "../../src/koji/hubs.js";
import { uploadFile } from "../../src/koji/upload.js";
import { createMetrics, type Metrics } from "../../src/metrics.js";
import { declareTopology, deleteTopology, EventPublisher, topologyNames } from "../../src/queue/index.js";
import { namesFromConfig } from "../../src/service/admin.js";
import { startWorker, type Worker } from "../../src/service/worker.js";
import { createPool, getImport, type ImportRow, runMigrations } from "../../src/store/index.js";
import { type FakeComposer, startFakeComposer } from "../fakes/composer/server.js";
import { type FakeKojiHub, startFakeKojiHub } from "../fakes/koji/server.js";
import { artifactStream } from "../fixtures/artifacts.js";
import { COMPOSES, loadCompose, uploadedFiles } from "../fixtures/composes.js";
import { createTestDatabase, runPrefix, type TestDatabase, testAmqpUrl } from "../support/servers.js";

export const TASK_ID = 987654;

/**
 * Real PostgreSQL and RabbitMQ (a database and queue names of the file's own), the fake composer and the fake
 * Koji hub over HTTP, and the real worker in this process: the whole service, as a test sees it.
 */
export interface Harness {
  database: TestDatabase;
  pool: pg.Pool;
  hub: FakeKojiHub;
  composer: FakeComposer;
  config: Config;
  env: Record<string, string>;
  publisher: EventPublisher;
  admin: Channel;
  metrics: Metrics;
  startWorker(overrides?: Record<string, string>): Promise<Worker>;
  /** A fresh copy of a sample compose: served by the fake composer, its outputs uploaded as composer would. */
  prepareCompose(
    fixture?: string,
    options?: { upload?: boolean },
  ): Promise<{ composeId: string; event: Record<string, any> }>;
  publish(event: unknown): Promise<void>;
  waitForState(composeId: string, states: string[], timeoutMs?: number): Promise<ImportRow>;
  close(): Promise<void>;
}

export async function createHarness(label: string, env: Record<string, string> = {}): Promise<Harness> {
  const database = await createTestDatabase(label);
  await runMigrations(database.url);
  const pool = createPool(database.url, 4);
  const hub = await startFakeKojiHub();
  hub.grant("osbuild");
  hub.addTask(TASK_ID);
  const composer = await startFakeComposer();
  const cert = hub.clientCert("osbuild");
  const prefix = runPrefix(label);
  const fullEnv: Record<string, string> = {
    DATABASE_URL: database.url,
    AMQP_URL: testAmqpUrl(),
    AMQP_EXCHANGE: `${prefix}.events`,
    AMQP_QUEUE: `${prefix}.work`,
    AMQP_PREFETCH: "8",
    RETRY_DELAYS: "100ms,200ms",
    MAX_ATTEMPTS: "6",
    COMPOSER_URL: composer.url,
    COMPOSER_MAX_RETRIES: "0",
    KOJI_HUBS: JSON.stringify([
      {
        url: hub.url,
        auth: "ssl",
        cert_file: cert.certFile,
        key_file: cert.keyFile,
        ca_file: hub.pki.caFile,
      },
    ]),
    UPLOAD_WAIT: "500ms",
    LOG_LEVEL: "silent",
    ...env,
  };
  const config = loadConfig(fullEnv);
  const publisher = await EventPublisher.open(testAmqpUrl());
  const model: ChannelModel = await amqp.connect(testAmqpUrl());
  const admin = await model.createChannel();
  // Declared up front, as a deployed importer would have, so an event published before a worker starts waits.
  await declareTopology(admin, namesFromConfig(config));
  const uploader = new KojiHubs({ hubs: config.kojiHubs });
  const workers: Worker[] = [];
  const metrics = createMetrics();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

  return {
    database,
    pool,
    hub,
    composer,
    config,
    env: fullEnv,
    publisher,
    admin,
    metrics,
    async startWorker(overrides = {}) {
      const worker = await startWorker(loadConfig({ ...fullEnv, ...overrides }), logger, metrics);
      workers.push(worker);
      return worker;
    },
    async prepareCompose(fixture = COMPOSES.success, options = {}) {
      const composeId = randomUUID();
      const bodies = loadCompose(fixture);
      const release = `1.${composeId.slice(0, 8)}`;
      const event = {
        ...bodies.event,
        compose_id: composeId,
        koji: {
          ...(bodies.event.koji as Record<string, unknown>),
          server: hub.url,
          release,
          upload_directory: `osbuild-cg/osbuild-composer-koji-${composeId}`,
        },
      } as Record<string, any>;
      composer.addCompose(composeId, {
        status: bodies.status,
        logs: bodies.logs,
        manifests: bodies.manifests,
      });
      if (options.upload !== false && bodies.event.status === "success") {
        const client = await uploader.client(hub.url);
        for (const file of uploadedFiles(bodies.logs)) {
          await uploadFile(client, {
            directory: event.koji.upload_directory,
            filename: file.filename,
            source: artifactStream(file.filename, file.size),
          });
        }
      }
      return { composeId, event };
    },
    async publish(event) {
      await publisher.publishJson(config.AMQP_EXCHANGE, config.AMQP_ROUTING_KEY, event);
    },
    async waitForState(composeId, states, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const row = await getImport(pool, composeId);
        if (row && states.includes(row.state)) return row;
        if (Date.now() > end)
          throw new Error(`import ${composeId} is ${row?.state ?? "absent"}, not ${states.join("/")}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      for (const worker of workers) await worker.stop();
      await uploader.close();
      await deleteTopology(admin, namesFromConfig(config)).catch(() => undefined);
      await publisher.close();
      await model.close();
      await composer.close();
      await hub.close();
      await pool.end();
      await database.drop();
    },
  };
}

export { topologyNames };
