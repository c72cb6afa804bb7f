import type { Db } from "../db.js";
import { type ImportProgress, PROGRESS_COLUMNS_SQL, toImportProgress } from "../import-row.js";
import type { ImportState } from "../import-states.js";

export interface ListImportsQuery {
  state?: ImportState;
  kojiServer?: string;
  since?: Date;
  limit: number;
  /** The (created_at, compose_id) of the last row of the previous page. */
  after?: { createdAt: string; composeId: string };
}

export interface ListedImport {
  row: ImportProgress;
  /** created_at as PostgreSQL wrote it, to the microsecond: the keyset cursor's key (a Date keeps milliseconds). */
  createdAtKey: string;
}

/** Imports newest first, by keyset on (created_at, compose_id): stable pages however many rows arrive meanwhile. */
export async function listImports(db: Db, query: ListImportsQuery): Promise<ListedImport[]> {
  const result = await db.query(
    `SELECT ${PROGRESS_COLUMNS_SQL}, to_json(created_at) #>> '{}' AS created_at_key
     FROM imports
     WHERE ($1::text IS NULL OR state = $1)
       AND ($2::text IS NULL OR koji_server = $2)
       AND ($3::timestamptz IS NULL OR created_at >= $3)
       AND ($4::timestamptz IS NULL OR (created_at, compose_id) < ($4::timestamptz, $5::uuid))
     ORDER BY created_at DESC, compose_id DESC
     LIMIT $6`,
    [
      query.state ?? null,
      query.kojiServer ?? null,
      query.since ?? null,
      query.after?.createdAt ?? null,
      query.after?.composeId ?? null,
      query.limit,
    ],
  );
  return result.rows.map(({ created_at_key, ...row }) => ({
    row: toImportProgress(row),
    createdAtKey: String(created_at_key),
  }));
}
