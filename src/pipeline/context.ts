import type pg from "pg";
import type { ComposerClient } from "../composer/client.js";
import type { KojiClient } from "../koji/client.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { KojiComposeFinishedEvent } from "../schemas/event.js";
import type { StepLog } from "../store/guarded-update.js";
import type { DocumentColumn, ImportProgress, ImportRow } from "../store/import-row.js";
import type { ArchiveTypeCache } from "./archive-types.js";
import type { RetryPolicy } from "./decide.js";

/** Limits the pipeline enforces, from the configuration. */
export interface PipelineSettings extends RetryPolicy {
  /** MAX_EVENT_BYTES: a larger event is dead-lettered unread. */
  maxEventBytes: number;
  maxMetadataBytes: number;
  uploadWaitMs: number;
  /** How long the hub may take over CGImport. */
  importTimeoutMs: number;
  /** How often a CGImport that may still be running on the hub is looked up (getBuild); 2 s by default. */
  importPollMs?: number;
}

/** What every step of one import sees: the compose's row, its adapters, and a logger bound to compose_id. */
export interface ImportContext {
  composeId: string;
  event: KojiComposeFinishedEvent;
  /** The connection holding the compose's advisory lock; every write of the import goes through it. */
  db: pg.PoolClient;
  pool: pg.Pool;
  koji: KojiClient;
  composer: ComposerClient;
  archiveTypes: ArchiveTypeCache;
  settings: PipelineSettings;
  metrics: Metrics;
  logger: Logger;
  attempt: number;
  /**
   * Aborts when the import must let go at once: SHUTDOWN_TIMEOUT passed, or the connection holding its lock broke.
   * Composer and Koji calls take it, so a slow one is abandoned.
   */
  signal: AbortSignal;
  /** Aborts when the process is stopping: the running step finishes, no other starts. */
  stopping: AbortSignal;
  /** The running step's line of the attempt log, written by the state change that ends the step. */
  stepLog: StepLog;
  row: ImportRow;
}

/** Moves ctx.row on after a state change: the store returns the progress columns, the step has the documents. */
export function advance(
  ctx: ImportContext,
  progress: ImportProgress,
  documents: Partial<Pick<ImportRow, DocumentColumn>> = {},
): void {
  ctx.row = { ...ctx.row, ...progress, ...documents };
}
