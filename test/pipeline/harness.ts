import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type GetMessage } from "amqplib";
import type pg from "pg";
import { type Logger, pino } from "pino";
import { type Config, loadConfig } from "../../src/config/load.js";
import { createMetrics, type Metrics } from "../../src/metrics.js";
import { declareTopology, deleteTopology, EventPublisher } from "../../src/queue/index.js";
import { namesFromConfig } from "../../src/service/admin.js";
import { startWorker, type Worker } from "../../src/service/worker.js";
import { createPool, getImport, type ImportRow, runMigrations } from "../../src/store/index.js";
import type { FakeComposer } from "../fakes/composer/server.js";
import { startFakeEnvironment } from "../fakes/environment.js";
import type { FakeKojiHub } from "../fakes/koji/server.js";
import { COMPOSES } from "../fixtures/composes.js";
import { createTestDatabase, runPrefix, type TestDatabase, testAmqpUrl } from "../support/servers.js";
import {
  recordStateChanges,
  type SeenStateChange,
  strayStateChanges,
  testConnectionUrl,
} from "../support/state-changes.js";

/**
 * Real PostgreSQL and RabbitMQ (a database and queue names of the file's own), the fake composer and the fake
 * Koji hub over HTTP, and the real worker in this process: the whole service, as a test sees it.
 * Every state change the importer makes (in this process or a worker process the test starts) is recorded, and
 * close() fails the test file when one is not in the state machine (src/store/import-states.ts): the crash and
 * fault tests' paths are checked against the table. `pool` is the test's own; what it changes is not checked.
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
  /** For what the SRE tools do with publisher confirms (replaying dead letters). */
  confirmChannel: ConfirmChannel;
  metrics: Metrics;
  /**
   * Resolves once the worker consumes, unless `consuming: false` (a worker that is not expected to). `logger`
   * replaces the harness's (silent unless TEST_LOG_LEVEL says otherwise), for a test that reads the log.
   */
  startWorker(
    overrides?: Record<string, string>,
    options?: { consuming?: boolean; logger?: Logger },
  ): Promise<Worker>;
  /** A fresh copy of a sample compose: served by the fake composer, its outputs uploaded as composer would. */
  prepareCompose(
    fixture?: string,
    options?: { upload?: boolean },
  ): Promise<{ composeId: string; event: Record<string, any> }>;
  publish(event: unknown): Promise<void>;
  waitForState(composeId: string, states: string[], timeoutMs?: number): Promise<ImportRow>;
  /** Waits until the import's row passes `check`. */
  waitFor(
    composeId: string,
    check: (row: ImportRow | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<ImportRow>;
  /** Takes the next message from the dead-letter queue, waiting for one to arrive. */
  nextDeadLetter(timeoutMs?: number): Promise<GetMessage>;
  close(): Promise<void>;
}

export async function createHarness(
  label: string,
  env: Record<string, string> = {},
  /** A PostgreSQL cluster of the test's own to make the database in (its admin URL). */
  options: { databaseAdminUrl?: string } = {},
): Promise<Harness> {
  const database = await createTestDatabase(label, options.databaseAdminUrl);
  await runMigrations(database.url);
  const pool = createPool(testConnectionUrl(database.url), 4);
  await recordStateChanges(pool);
  const fakes = await startFakeEnvironment();
  const { hub, composer } = fakes;
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
    KOJI_HUBS: JSON.stringify(fakes.kojiHubs),
    UPLOAD_WAIT: "500ms",
    LOG_LEVEL: "silent",
    ...env,
  };
  const config = loadConfig(fullEnv);
  // The broker named by the env (a test may bring its own node), for the worker and the test's own connections.
  const publisher = await EventPublisher.open(fullEnv.AMQP_URL as string);
  const model: ChannelModel = await amqp.connect(fullEnv.AMQP_URL as string);
  // A test that restarts its broker leaves these connections closed under us; close() must still clean up.
  model.on("error", () => undefined);
  const admin = await model.createChannel();
  const confirmChannel = await model.createConfirmChannel();
  // Declared up front, as a deployed importer would have, so an event published before a worker starts waits.
  await declareTopology(admin, namesFromConfig(config));
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
    confirmChannel,
    metrics,
    async startWorker(overrides = {}, options = {}) {
      const worker = await startWorker(
        loadConfig({ ...fullEnv, ...overrides }),
        options.logger ?? logger,
        metrics,
      );
      workers.push(worker);
      if (options.consuming !== false) await worker.consumer.whenConsuming();
      return worker;
    },
    async prepareCompose(fixture = COMPOSES.success, options = {}) {
      const { composeId, event } = await fakes.prepareCompose({ fixture, ...options });
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
    async waitFor(composeId, check, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const row = await getImport(pool, composeId);
        if (check(row)) return row as ImportRow;
        if (Date.now() > end)
          throw new Error(`import ${composeId} (${row?.state ?? "absent"}): condition not met`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async nextDeadLetter(timeoutMs = 10_000) {
      const queue = namesFromConfig(config).deadLetterQueue;
      const end = Date.now() + timeoutMs;
      for (;;) {
        const message = await admin.get(queue, { noAck: true });
        if (message) return message;
        if (Date.now() > end) throw new Error(`no dead letter arrived within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      for (const worker of workers) await worker.stop();
      // Read before the database goes, reported once everything is cleaned up.
      const strays = await strayStateChanges(pool).then(describeStrays, (error: unknown) => error);
      await deleteTopology(admin, namesFromConfig(config)).catch(() => undefined);
      await publisher.close();
      await model.close().catch(() => undefined);
      await fakes.close();
      await pool.end();
      await database.drop();
      if (strays) throw strays;
    },
  };
}

function describeStrays(strays: SeenStateChange[]): Error | undefined {
  if (strays.length === 0) return undefined;
  const lines = strays.map((s) => `${s.from ?? "(new)"} → ${s.to}, by: ${s.statement.replace(/\s+/g, " ")}`);
  return new Error(`state changes the state machine does not allow:\n${lines.join("\n")}`);
}
