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
  last_error_class: "retryable" | "permanent" | null;
  reservation_started_at: Date | null;
  uploads_waiting_since: Date | null;
  import_started_at: Date | null;
  created_at: Date;
  updated_at: Date;
  imported_at: Date | null;
}

/** The columns that hold documents (composer's answers, the CG document): large, and written once each. */
export const DOCUMENT_COLUMNS = [
  "event",
  "compose_status",
  "compose_logs",
  "compose_manifests",
  "cg_metadata",
] as const;
export type DocumentColumn = (typeof DOCUMENT_COLUMNS)[number];

/**
 * The row without its documents: what a state change returns. Each document is written by one step, which
 * already holds it, so reading the documents back on every UPDATE would only cost Postgres and the worker time
 * (detoasting, jsonb to text, JSON.parse) for data the worker has.
 */
export type ImportProgress = Omit<ImportRow, DocumentColumn>;

/** Every column of `imports` but the documents, for RETURNING and SELECT lists (kept in step by a store test). */
export const PROGRESS_COLUMNS = [
  "compose_id",
  "state",
  "koji_server",
  "koji_task_id",
  "name",
  "version",
  "release",
  "upload_directory",
  "koji_build_id",
  "koji_token",
  "reservation_source",
  "attempts",
  "last_error_code",
  "last_error",
  "last_error_class",
  "reservation_started_at",
  "uploads_waiting_since",
  "import_started_at",
  "created_at",
  "updated_at",
  "imported_at",
] as const;
export const PROGRESS_COLUMNS_SQL = PROGRESS_COLUMNS.join(", ");

/** The whole row, named column by column: a statement prepared once must not depend on `*`. */
export const ROW_COLUMNS_SQL = [...PROGRESS_COLUMNS, ...DOCUMENT_COLUMNS].join(", ");

const BIGINT_COLUMNS = ["koji_task_id", "koji_build_id"] as const;

function convertBigints(raw: Record<string, unknown>): Record<string, unknown> {
  const row = { ...raw };
  for (const column of BIGINT_COLUMNS)
    if (row[column] !== null && row[column] !== undefined) row[column] = Number(row[column]);
  return row;
}

export function toImportRow(raw: Record<string, unknown>): ImportRow {
  return convertBigints(raw) as unknown as ImportRow;
}

export function toImportProgress(raw: Record<string, unknown>): ImportProgress {
  return convertBigints(raw) as unknown as ImportProgress;
}

export function nvrOf(row: Pick<ImportRow, "name" | "version" | "release">): string {
  return `${row.name}-${row.version}-${row.release}`;
}
