import type { ImportState } from "./import-states.js";

/** One `imports` row as the pipeline reads it (bigint columns arrive as strings from pg and are converted). */
export interface ImportRow {
  compose_id: string;
  state: ImportState;
  koji_server: string | null;
  koji_task_id: number | null;
  name: string | null;
  version: string | null;
  release: string | null;
  upload_directory: string | null;
  koji_build_id: number | null;
  koji_token: string | null;
  reservation_source: "composer" | "importer" | null;
  event: unknown;
  compose_status: unknown;
  compose_logs: unknown;
  compose_manifests: unknown;
  cg_metadata: unknown;
  attempts: number;
  last_error_code: string | null;
  last_error: string | null;
  reservation_started_at: Date | null;
  uploads_waiting_since: Date | null;
  import_started_at: Date | null;
  created_at: Date;
  updated_at: Date;
  imported_at: Date | null;
}

const BIGINT_COLUMNS = ["koji_task_id", "koji_build_id"] as const;

export function toImportRow(raw: Record<string, unknown>): ImportRow {
  const row = { ...raw } as Record<string, unknown>;
  for (const column of BIGINT_COLUMNS)
    if (row[column] !== null && row[column] !== undefined) row[column] = Number(row[column]);
  return row as unknown as ImportRow;
}

export function nvrOf(row: Pick<ImportRow, "name" | "version" | "release">): string {
  return `${row.name}-${row.version}-${row.release}`;
}
