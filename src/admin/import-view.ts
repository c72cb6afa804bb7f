import { z } from "zod";
import type { ImportProgress } from "../store/import-row.js";
import { IMPORT_STATES } from "../store/import-states.js";
import type { AttemptEntry } from "../store/queries/import-detail.js";
import type { ResultEventView } from "../store/result-outbox.js";

/**
 * The one view of an import that operators see, over HTTP and from the CLI's `--json` alike: snake_case names,
 * an error as `{code, message}`, timestamps in RFC 3339 UTC (`Z`). The schemas also describe the routes in
 * /openapi.json.
 */
export const ErrorViewSchema = z.object({ code: z.string().nullable(), message: z.string() });

export const ImportViewSchema = z.object({
  compose_id: z.string(),
  state: z.enum(IMPORT_STATES),
  koji_server: z.string().nullable(),
  koji_task_id: z.number().nullable(),
  nvr: z.string().nullable(),
  koji_build_id: z.number().nullable(),
  upload_directory: z.string().nullable(),
  attempts: z.number(),
  last_error: ErrorViewSchema.nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  imported_at: z.string().nullable(),
});

export const AttemptViewSchema = z.object({
  attempt: z.number(),
  step: z.string(),
  outcome: z.string(),
  error: ErrorViewSchema.nullable(),
  started_at: z.string(),
  finished_at: z.string(),
});

/** The latest import-result event and whether the relay has published it (null: none, or pruned). */
export const ResultEventViewSchema = z.object({
  state: z.string(),
  message_id: z.string(),
  published: z.boolean(),
  finished_at: z.string(),
  published_at: z.string().nullable(),
});

export const ImportDetailViewSchema = ImportViewSchema.extend({
  result_event: ResultEventViewSchema.nullable(),
  attempt_log: z.array(AttemptViewSchema),
});

export type ImportView = z.infer<typeof ImportViewSchema>;
export type AttemptView = z.infer<typeof AttemptViewSchema>;
export type ImportDetailView = z.infer<typeof ImportDetailViewSchema>;

/** RFC 3339 in UTC with `Z`, whatever the driver handed over. */
export function timestamp(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

const optionalTimestamp = (value: Date | string | null) => (value === null ? null : timestamp(value));

export function importView(row: ImportProgress): ImportView {
  return {
    compose_id: row.compose_id,
    state: row.state,
    koji_server: row.koji_server,
    koji_task_id: row.koji_task_id,
    nvr: row.name ? `${row.name}-${row.version}-${row.release}` : null,
    koji_build_id: row.koji_build_id,
    upload_directory: row.upload_directory,
    attempts: row.attempts,
    last_error: row.last_error === null ? null : { code: row.last_error_code, message: row.last_error },
    created_at: timestamp(row.created_at),
    updated_at: timestamp(row.updated_at),
    imported_at: optionalTimestamp(row.imported_at),
  };
}

export function attemptView(entry: AttemptEntry): AttemptView {
  return {
    attempt: entry.attempt,
    step: entry.step,
    outcome: entry.outcome,
    error:
      entry.error_message === null && entry.error_code === null
        ? null
        : { code: entry.error_code, message: entry.error_message ?? "" },
    started_at: timestamp(entry.started_at),
    finished_at: timestamp(entry.finished_at),
  };
}

export function importDetailView(
  row: ImportProgress,
  attempts: readonly AttemptEntry[],
  result: ResultEventView | null,
): ImportDetailView {
  return {
    ...importView(row),
    result_event: result && {
      ...result,
      finished_at: timestamp(result.finished_at),
      published_at: optionalTimestamp(result.published_at),
    },
    attempt_log: attempts.map(attemptView),
  };
}
