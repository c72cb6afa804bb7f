import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { VERSION } from "./version.js";

/**
 * The service's Prometheus metrics, one registry per process. The pipeline and queue record; the admin server
 * serves `registry.metrics()` at /metrics and refreshes the queue-depth gauge on scrape.
 */
export interface Metrics {
  registry: Registry;
  /** outcome: imported | ignored | duplicate | retried | dead_lettered | invalid */
  eventsConsumed: Counter<"outcome">;
  /** state: the import's final state (imported, failed, refunded); code: the failure's code, "" when imported. */
  importsFinished: Counter<"state" | "code">;
  /** Imports running their steps in this process right now. */
  importsInFlight: Gauge;
  /** Unix time of this process's last import that reached `imported`. */
  lastImportSuccess: Gauge;
  /** endpoint: status | logs | manifests | sboms | download; outcome: ok | error. One per HTTP request. */
  composerRequestDuration: Histogram<"endpoint" | "outcome">;
  composerRequestErrors: Counter<"endpoint" | "code">;
  /** hub: the hub's URL; method: the XML-RPC method. One per call (logins and resends inside it included). */
  kojiRequestDuration: Histogram<"hub" | "method" | "outcome">;
  /** code: the error's code; a hub's fault is `KOJI_FAULT` with its fault name in `fault`. */
  kojiRequestErrors: Counter<"hub" | "method" | "code" | "fault">;
  stepDuration: Histogram<"step">;
  retries: Counter<"step" | "code">;
  deadLettered: Counter<"code">;
  /** role: work | retry | dead-letter; queue: its name. Read at scrape time. */
  queueDepth: Gauge<"queue" | "role">;
  /** state: imported | failed | refunded; counted once the broker confirmed the result event. */
  resultsPublished: Counter<"state">;
  outboxPending: Gauge;
  outboxOldestPendingAge: Gauge;
}

const REQUEST_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 1800];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "importer_build_info",
    help: "Always 1; the running version in its label",
    labelNames: ["version"],
    registers: [registry],
  }).set({ version: VERSION }, 1);
  return {
    registry,
    importsInFlight: new Gauge({
      name: "importer_imports_in_flight",
      help: "Imports running their steps in this process",
      registers: [registry],
    }),
    lastImportSuccess: new Gauge({
      name: "importer_last_import_success_timestamp_seconds",
      help: "Unix time of the last import this process brought to `imported` (0: none since it started)",
      registers: [registry],
    }),
    composerRequestDuration: new Histogram({
      name: "importer_composer_request_duration_seconds",
      help: "composer Cloud API requests, each try on its own, by endpoint and outcome",
      labelNames: ["endpoint", "outcome"],
      buckets: REQUEST_BUCKETS,
      registers: [registry],
    }),
    composerRequestErrors: new Counter({
      name: "importer_composer_request_errors_total",
      help: "composer Cloud API requests that failed, by endpoint and error code",
      labelNames: ["endpoint", "code"],
      registers: [registry],
    }),
    kojiRequestDuration: new Histogram({
      name: "importer_koji_request_duration_seconds",
      help: "Koji hub XML-RPC calls, by hub, method and outcome",
      labelNames: ["hub", "method", "outcome"],
      buckets: REQUEST_BUCKETS,
      registers: [registry],
    }),
    kojiRequestErrors: new Counter({
      name: "importer_koji_request_errors_total",
      help: "Koji hub XML-RPC calls that failed, by hub, method, error code and Koji fault name",
      labelNames: ["hub", "method", "code", "fault"],
      registers: [registry],
    }),
    eventsConsumed: new Counter({
      name: "importer_events_consumed_total",
      help: "Compose-finished events consumed, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    importsFinished: new Counter({
      name: "importer_imports_finished_total",
      help: "Imports that reached a final state, by state and failure code (empty when imported)",
      labelNames: ["state", "code"],
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
      help: "Messages in the work, retry and dead-letter queues, read at scrape time",
      labelNames: ["queue", "role"],
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
