import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { composeStatusDocument } from "../../core/readers.js";
import { ComposeStatusSchema } from "../../schemas/composer.js";
import { getImport } from "../../store/get-import.js";
import { getImportDetail } from "../../store/queries/import-detail.js";
import type { AdminDeps } from "../deps.js";
import { HttpError, notFound } from "../errors.js";
import { ImportListPageSchema, ImportListQuerySchema, listImportPage } from "../import-list.js";
import { ImportDetailViewSchema, importDetailView } from "../import-view.js";
import { requeueImport } from "../requeue-import.js";
import { createRouter } from "../route.js";

const ComposeIdParams = z.object({ compose_id: z.uuid() });
const Json = z.record(z.string(), z.unknown());

export async function importRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const route = createRouter(app, deps.docs, deps.auth);

  route(
    {
      method: "GET",
      url: "/v1/imports",
      summary: "imports, newest first (keyset pagination)",
      access: "read",
      query: ImportListQuerySchema,
      response: ImportListPageSchema,
      errors: [400, 401],
    },
    async ({ query }) => listImportPage(deps.pool, query),
  );

  route(
    {
      method: "GET",
      url: "/v1/imports/{compose_id}",
      summary: "one import: state, attempts and their errors, Koji build id and NVR, timestamps",
      access: "read",
      params: ComposeIdParams,
      response: ImportDetailViewSchema,
      errors: [400, 401, 404],
    },
    async ({ params }) => {
      const detail = await getImportDetail(deps.pool, params.compose_id);
      if (!detail) throw notFound(`import ${params.compose_id}`);
      return importDetailView(detail.row, detail.attempts, detail.result_event);
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
          "BROKER_UNAVAILABLE",
          `the broker did not take the event (${result.message}); import ${params.compose_id} is unchanged, try again`,
        );
      }
      if (result.outcome === "conflict") {
        throw new HttpError(
          "CONFLICT",
          `import ${params.compose_id} is ${result.state}, not failed or refunded`,
        );
      }
      deps.logger.info({ compose_id: params.compose_id }, "import re-queued by an operator");
      return { compose_id: params.compose_id, state: "received", requeued: true };
    },
  );
}
