import { type ImportResultState, importResultMessageId } from "../schemas/event.js";
import { type Db, preparedQuery } from "./db.js";

/**
 * The transactional outbox of import-result events (table import_result_outbox). A row is written by the
 * statement that moves an import to a final state (RESULT_OUTBOX_INSERT, an effect of guardedUpdate), so it
 * commits with the state or not at all; the relay (src/pipeline/result-relay.ts) publishes and marks it sent.
 */

/**
 * The effect that writes the outbox row from the row the state change returned (`updated`). `$buildId` is a
 * parameter for a build id the imports row does not hold (composer's reservation of a failed compose).
 */
export function resultOutboxInsert(buildIdParam?: number): string {
  const buildId =
    buildIdParam === undefined ? "koji_build_id" : `COALESCE($${buildIdParam}::bigint, koji_build_id)`;
  return `INSERT INTO import_result_outbox (compose_id, state, koji_server, koji_build_id, nvr, error_code, error_message)
     SELECT compose_id, state, koji_server, ${buildId}, name || '-' || version || '-' || release,
            last_error_code, last_error
     FROM updated`;
}

/** One result waiting to be published (or being published by the relay that locked it). */
export interface PendingResult {
  id: number;
  compose_id: string;
  state: ImportResultState;
  koji_server: string;
  koji_build_id: number | null;
  nvr: string;
  error_code: string | null;
  error_message: string | null;
  finished_at: Date;
}

/**
 * Locks up to `limit` pending results, oldest first, for the rest of the caller's transaction. Rows another
 * relay has locked are skipped, so relays in several workers publish disjoint batches.
 */
export async function claimPendingResults(db: Db, limit: number): Promise<PendingResult[]> {
  const result = await preparedQuery<Record<string, unknown>>(
    db,
    `SELECT id, compose_id, state, koji_server, koji_build_id, nvr, error_code, error_message, finished_at
     FROM import_result_outbox WHERE published_at IS NULL
     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return result.rows.map((row) => ({
    ...(row as unknown as PendingResult),
    id: Number(row.id),
    koji_build_id: row.koji_build_id === null ? null : Number(row.koji_build_id),
  }));
}

export async function markResultsPublished(db: Db, ids: number[]): Promise<void> {
  await preparedQuery(
    db,
    "UPDATE import_result_outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
    [ids],
  );
}

/** Removes results published longer than `retentionMs` ago; returns how many. */
export async function prunePublishedResults(db: Db, retentionMs: number): Promise<number> {
  const result = await preparedQuery(
    db,
    `DELETE FROM import_result_outbox
     WHERE published_at IS NOT NULL AND published_at < now() - $1::double precision * interval '1 millisecond'`,
    [retentionMs],
  );
  return result.rowCount ?? 0;
}

/** What the metrics show: results not yet published, and how long the oldest of them has waited. */
export async function outboxBacklog(db: Db): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const result = await preparedQuery<{ pending: number; oldest_age: number | null }>(
    db,
    `SELECT count(*)::int AS pending, EXTRACT(EPOCH FROM now() - min(finished_at))::float8 AS oldest_age
     FROM import_result_outbox WHERE published_at IS NULL`,
    [],
  );
  const row = result.rows[0];
  return { pending: row?.pending ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest_age ?? 0) };
}

/** The latest result event of an import, for status views: null when none was written (or it was pruned). */
export interface ResultEventView {
  state: ImportResultState;
  message_id: string;
  published: boolean;
  finished_at: Date;
  published_at: Date | null;
}

export async function latestResultEvent(db: Db, composeId: string): Promise<ResultEventView | null> {
  const result = await preparedQuery<{
    state: ImportResultState;
    finished_at: Date;
    published_at: Date | null;
  }>(
    db,
    `SELECT state, finished_at, published_at FROM import_result_outbox
     WHERE compose_id = $1 ORDER BY id DESC LIMIT 1`,
    [composeId],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    state: row.state,
    message_id: importResultMessageId(composeId, row.state),
    published: row.published_at !== null,
    finished_at: row.finished_at,
    published_at: row.published_at,
  };
}
