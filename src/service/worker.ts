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
import { runMigrations } from "../store/migrate.js";
import { metricsObserver } from "../telemetry/calls.js";
import { startTracing } from "../telemetry/tracing.js";
import { namesFromConfig } from "./admin.js";
import { composerOptions } from "./composer-options.js";

export interface Worker {
  consumer: QueueConsumer;
  relay: ResultRelay;
  stop(): Promise<void>;
}

/** The import worker: every adapter built from the configuration, and the consumer running the pipeline. */
export async function startWorker(config: Config, logger: Logger, metrics: Metrics): Promise<Worker> {
  if (config.MIGRATE_ON_START) await runMigrations(config.DATABASE_URL, logger);
  const tracing = await startTracing(config.OTEL_EXPORTER_OTLP_ENDPOINT, logger);
  const observer = metricsObserver(metrics);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
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
  });
  const consumer = new QueueConsumer({
    url: config.AMQP_URL,
    names: namesFromConfig(config),
    prefetch: config.AMQP_PREFETCH,
    handler,
    logger,
  });
  // Results committed before this start (a crash, a broker outage) are published as soon as the relay runs.
  relay.start();
  await consumer.start();
  let stopped: Promise<void> | undefined;
  return {
    consumer,
    relay,
    // Idempotent: a second SIGTERM, or a test's cleanup after an explicit stop, must not close things twice.
    stop() {
      stopped ??= (async () => {
        await consumer.stop();
        // After the consumer: the results of the imports it finished while draining are published too.
        await relay.stop();
        await hubs.close();
        await composer.close();
        await pool.end();
        await tracing?.shutdown();
      })();
      return stopped;
    },
  };
}
