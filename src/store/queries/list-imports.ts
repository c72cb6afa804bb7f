import type { Db } from "../db.js";
import type { ImportState } from "../import-states.js";

export interface ImportSummary {
  compose_id: string;
  state: ImportState;
  koji_server: string | null;
  nvr: string | null;
  koji_build_id: number | null;
  attempts: number;
  last_error_code: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  imported_at: string | null;
}

export interface ListImportsQuery {
  state?: ImportState;
  kojiServer?: string;
  since?: Date;
  limit: number;
  /** The (created_at, compose_id) of the last row of the previous page. */
  after?: { createdAt: string; composeId: string };
}

/** Imports newest first, by keyset on (created_at, compose_id): stable pages however many rows arrive meanwhile. */
export async function listImports(db: Db, query: ListImportsQuery): Promise<ImportSummary[]> {
  const result = await db.query(
    `SELECT compose_id, state, koji_server,
            CASE WHEN name IS NULL THEN NULL ELSE name || '-' || version || '-' || release END AS nvr,
            koji_build_id, attempts, last_error_code, last_error,
            to_json(created_at) #>> '{}' AS created_at, to_json(updated_at) #>> '{}' AS updated_at,
            to_json(imported_at) #>> '{}' AS imported_at
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
  return result.rows.map((row) => ({
    ...row,
    koji_build_id: row.koji_build_id === null ? null : Number(row.koji_build_id),
  }));
}
