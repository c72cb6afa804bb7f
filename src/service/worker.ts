import { setTimeout as sleep } from "node:timers/promises";
import { ComposerClient } from "../composer/client.js";
import type { Config } from "../config/load.js";
import { KojiHubs } from "../koji/hubs.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { ArchiveTypeCache } from "../pipeline/archive-types.js";
import { createDeliveryHandler } from "../pipeline/handle-delivery.js";
import { ResultRelay } from "../pipeline/result-relay.js";
import { QueueConsumer } from "../queue/consumer.js";
import { createPool } from "../store/db.js";
import { metricsObserver } from "../telemetry/calls.js";
import { startTracing } from "../telemetry/tracing.js";
import { namesFromConfig } from "./admin.js";
import { bounded } from "./bounded.js";
import { composerOptions } from "./composer-options.js";
import { DependencyMonitor } from "./dependencies.js";

export interface Worker {
  consumer: QueueConsumer;
  relay: ResultRelay;
  monitor: DependencyMonitor;
  stop(): Promise<void>;
}

/** How long a pause after a delivery met an unreachable database lasts at least, before the database is asked. */
const STORE_PAUSE_MS = 1000;
/** Closing the adapters after the consumer stopped: logouts and a pool end must not hold the process. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * The import worker: every adapter built from the configuration, and the consumer running the pipeline. It returns
 * at once: the consumer connects to the broker in the background (reconnecting until stop), and consumes only while
 * the monitor says the database answers with the expected schema. A monitor shared with the admin API (`start`)
 * may be passed in; without one the worker makes and runs its own. The configuration's start-up checks
 * (src/service/startup-checks.ts) are the caller's, before this.
 */
export async function startWorker(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  options: { monitor?: DependencyMonitor } = {},
): Promise<Worker> {
  const tracing = await startTracing(config.OTEL_EXPORTER_OTLP_ENDPOINT, logger);
  const observer = metricsObserver(metrics);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE, logger);
  const hubs = new KojiHubs({
    hubs: config.kojiHubs,
    cgName: config.KOJI_CG_NAME,
    timeoutMs: config.KOJI_TIMEOUT,
    logger,
    observer,
  });
  const composer = new ComposerClient({ ...composerOptions(config, logger), observer });
  const relay = new ResultRelay({
    pool,
    amqpUrl: config.AMQP_URL,
    exchange: config.AMQP_EXCHANGE,
    routingKey: config.AMQP_RESULT_ROUTING_KEY,
    retentionMs: config.OUTBOX_RETENTION,
    metrics,
    logger,
  });
  let consumer: QueueConsumer | undefined;
  const monitor =
    options.monitor ??
    new DependencyMonitor({
      databaseUrl: config.DATABASE_URL,
      amqp: async () => (consumer?.isConnected ? "ok" : "not connected"),
      migrate: config.MIGRATE_ON_START,
      logger,
    });
  let pausing: Promise<void> | undefined;
  const handler = createDeliveryHandler({
    pool,
    hubs,
    composer,
    archiveTypes: new ArchiveTypeCache(),
    settings: {
      maxAttempts: config.MAX_ATTEMPTS,
      retryDelaysMs: config.RETRY_DELAYS,
      unexpectedRetryMs: config.UNEXPECTED_RETRY_WINDOW,
      maxEventBytes: config.MAX_EVENT_BYTES,
      maxMetadataBytes: config.KOJI_MAX_METADATA_BYTES,
      uploadWaitMs: config.UPLOAD_WAIT,
      importTimeoutMs: config.KOJI_IMPORT_TIMEOUT,
    },
    metrics,
    logger,
    onResult: () => relay.wake(),
    // Stop taking deliveries at once; take them again as soon as the database answers.
    onStoreUnavailable() {
      void consumer?.setOpen(false);
      pausing ??= (async () => {
        await sleep(STORE_PAUSE_MS);
        await monitor.refresh();
        pausing = undefined;
        await consumer?.setOpen(monitor.databaseReady);
      })();
    },
  });
  consumer = new QueueConsumer({
    url: config.AMQP_URL,
    names: namesFromConfig(config),
    prefetch: config.AMQP_PREFETCH,
    handler,
    logger,
    drainTimeoutMs: config.SHUTDOWN_TIMEOUT,
    open: monitor.databaseReady,
  });
  const gated = consumer;
  monitor.onChange(() => {
    if (!pausing) void gated.setOpen(monitor.databaseReady);
  });
  // Results committed before this start (a crash, a broker outage) are published as soon as the relay runs.
  relay.start();
  void gated.start();
  if (!options.monitor) monitor.start();
  let stopped: Promise<void> | undefined;
  return {
    consumer: gated,
    relay,
    monitor,
    // Idempotent: a second SIGTERM, or a test's cleanup after an explicit stop, must not close things twice.
    stop() {
      stopped ??= (async () => {
        await gated.stop();
        await bounded(pausing ?? Promise.resolve(), CLOSE_TIMEOUT_MS);
        if (!options.monitor) await monitor.stop();
        // After the consumer: the results of the imports it finished while draining are published too.
        await bounded(relay.stop(), CLOSE_TIMEOUT_MS);
        await bounded(hubs.close(), CLOSE_TIMEOUT_MS);
        await bounded(composer.close(), CLOSE_TIMEOUT_MS);
        await bounded(pool.end(), CLOSE_TIMEOUT_MS);
        await bounded(tracing?.shutdown() ?? Promise.resolve(), CLOSE_TIMEOUT_MS);
      })();
      return stopped;
    },
  };
}
