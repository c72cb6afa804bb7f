import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { composeStatusDocument } from "../../core/readers.js";
import { ComposeStatusSchema } from "../../schemas/composer.js";
import { getImport } from "../../store/get-import.js";
import { IMPORT_STATES } from "../../store/import-states.js";
import { getImportDetail } from "../../store/queries/import-detail.js";
import { listImports } from "../../store/queries/list-imports.js";
import type { AdminDeps } from "../deps.js";
import { HttpError, notFound } from "../errors.js";
import { requeueImport } from "../requeue-import.js";
import { createRouter } from "../route.js";
import { decodeCursor, encodeCursor } from "./cursor.js";

const ComposeIdParams = z.object({ compose_id: z.uuid() });
const Json = z.record(z.string(), z.unknown());

const ImportSummary = z.object({
  compose_id: z.string(),
  state: z.enum(IMPORT_STATES),
  koji_server: z.string().nullable(),
  nvr: z.string().nullable(),
  koji_build_id: z.number().nullable(),
  attempts: z.number(),
  last_error_code: z.string().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  imported_at: z.string().nullable(),
});

const ListQuery = z.object({
  state: z.enum(IMPORT_STATES).optional(),
  koji_server: z.string().min(1).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});

export async function importRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const route = createRouter(app, deps.docs, deps.auth);

  route(
    {
      method: "GET",
      url: "/v1/imports",
      summary: "imports, newest first (keyset pagination)",
      access: "read",
      query: ListQuery,
      response: z.object({ items: z.array(ImportSummary), next_cursor: z.string().nullable() }),
      errors: [400, 401],
    },
    async ({ query }) => {
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const items = await listImports(deps.pool, {
        ...(query.state ? { state: query.state } : {}),
        ...(query.koji_server ? { kojiServer: query.koji_server } : {}),
        ...(query.since ? { since: new Date(query.since) } : {}),
        limit: query.limit,
        ...(after ? { after } : {}),
      });
      const last = items.at(-1);
      const next =
        items.length === query.limit && last ? encodeCursor(last.created_at, last.compose_id) : null;
      return { items, next_cursor: next };
    },
  );

  route(
    {
      method: "GET",
      url: "/v1/imports/{compose_id}",
      summary: "one import: state, attempts and their errors, Koji build id and NVR, timestamps",
      access: "read",
      params: ComposeIdParams,
      response: Json,
      errors: [400, 401, 404],
    },
    async ({ params }) => {
      const detail = await getImportDetail(deps.pool, params.compose_id);
      if (!detail) throw notFound(`import ${params.compose_id}`);
      const { row, attempts, result_event: result } = detail;
      return {
        compose_id: row.compose_id,
        state: row.state,
        koji_server: row.koji_server,
        koji_task_id: row.koji_task_id,
        nvr: row.name ? `${row.name}-${row.version}-${row.release}` : null,
        koji_build_id: row.koji_build_id,
        upload_directory: row.upload_directory,
        attempts: row.attempts,
        last_error: row.last_error ? { code: row.last_error_code, message: row.last_error } : null,
        created_at: row.created_at,
        updated_at: row.updated_at,
        imported_at: row.imported_at,
        // The latest import-result event and whether the relay has published it (null: none, or pruned).
        result_event: result,
        attempt_log: attempts,
      };
    },
  );

  route(
    {
      method: "GET",
      url: "/v1/imports/{compose_id}/metadata",
      summary: "the stored Koji CG import document",
      access: "read",
      params: ComposeIdParams,
      response: Json,
      errors: [400, 401, 404],
    },
    async ({ params }) => {
      const row = await getImport(deps.pool, params.compose_id);
      if (!row?.cg_metadata) throw notFound(`CG metadata of import ${params.compose_id}`);
      return row.cg_metadata as Record<string, unknown>;
    },
  );

  route(
    {
      method: "GET",
      url: "/v1/imports/{compose_id}/compose-status",
      summary: "the compose-status.json of this compose",
      access: "read",
      params: ComposeIdParams,
      response: Json,
      errors: [400, 401, 404],
    },
    async ({ params }) => {
      const row = await getImport(deps.pool, params.compose_id);
      const status = ComposeStatusSchema.safeParse(row?.compose_status);
      if (!row || !status.success) throw notFound(`compose status of import ${params.compose_id}`);
      return composeStatusDocument(status.data, row.koji_build_id, row.koji_task_id);
    },
  );

  route(
    {
      method: "POST",
      url: "/v1/imports/{compose_id}/retry",
      summary: "re-queue a failed import (409 unless failed or refunded)",
      access: "write",
      params: ComposeIdParams,
      response: z.object({ compose_id: z.string(), state: z.string(), requeued: z.boolean() }),
      errors: [400, 401, 404, 409, 503],
    },
    async ({ params }) => {
      const result = await requeueImport(deps.pool, deps.amqp, deps.names, params.compose_id);
      if (result.outcome === "not-found") throw notFound(`import ${params.compose_id}`);
      if (result.outcome === "broker-unavailable") {
        throw new HttpError(
          503,
          "BROKER_UNAVAILABLE",
          `the broker did not take the event (${result.message}); import ${params.compose_id} is unchanged, try again`,
        );
      }
      if (result.outcome === "conflict") {
        throw new HttpError(
          409,
          "CONFLICT",
          `import ${params.compose_id} is ${result.state}, not failed or refunded`,
        );
      }
      deps.logger.info({ compose_id: params.compose_id }, "import re-queued by an operator");
      return { compose_id: params.compose_id, state: "received", requeued: true };
    },
  );
}
