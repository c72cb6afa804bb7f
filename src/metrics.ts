import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The service's Prometheus metrics, one registry per process. The pipeline and queue record; the admin server
 * serves `registry.metrics()` at /metrics and refreshes the queue-depth gauge on scrape.
 */
export interface Metrics {
  registry: Registry;
  /** outcome: imported | ignored | duplicate | retried | dead_lettered | invalid */
  eventsConsumed: Counter<"outcome">;
  /** state: the import's final state (imported, failed, refunded, ignored). */
  importsFinished: Counter<"state">;
  stepDuration: Histogram<"step">;
  retries: Counter<"step" | "code">;
  deadLettered: Counter<"code">;
  queueDepth: Gauge<"queue">;
  /** state: imported | failed | refunded; counted once the broker confirmed the result event. */
  resultsPublished: Counter<"state">;
  outboxPending: Gauge;
  outboxOldestPendingAge: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    eventsConsumed: new Counter({
      name: "importer_events_consumed_total",
      help: "Compose-finished events consumed, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    importsFinished: new Counter({
      name: "importer_imports_finished_total",
      help: "Imports that reached a final state, by state",
      labelNames: ["state"],
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: "importer_step_duration_seconds",
      help: "Duration of each import step",
      labelNames: ["step"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    retries: new Counter({
      name: "importer_retries_total",
      help: "Import attempts scheduled for retry, by step and error code",
      labelNames: ["step", "code"],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: "importer_dead_lettered_total",
      help: "Messages sent to the dead-letter queue, by error code",
      labelNames: ["code"],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "importer_queue_depth",
      help: "Messages ready in the work and dead-letter queues, read at scrape time",
      labelNames: ["queue"],
      registers: [registry],
    }),
    resultsPublished: new Counter({
      name: "importer_results_published_total",
      help: "Import-result events published and confirmed by the broker, by state",
      labelNames: ["state"],
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: "importer_outbox_pending",
      help: "Import-result events committed but not yet published, read at scrape time",
      registers: [registry],
    }),
    outboxOldestPendingAge: new Gauge({
      name: "importer_outbox_oldest_pending_age_seconds",
      help: "How long the oldest unpublished import-result event has waited (0 when none), read at scrape time",
      registers: [registry],
    }),
  };
}
