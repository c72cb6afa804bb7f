import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { imageInfo } from "../../core/readers.js";
import { getImportByBuildId } from "../../store/queries/import-detail.js";
import type { AdminDeps } from "../deps.js";
import { notFound } from "../errors.js";
import { createRouter } from "../route.js";

export async function buildRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const route = createRouter(app, deps.docs, deps.auth);
  route(
    {
      method: "GET",
      url: "/v1/builds/{koji_build_id}/images/{filename}",
      summary: "an image's metadata, read from extra.typeinfo.image with the legacy extra.image fallback",
      access: "read",
      params: z.object({ koji_build_id: z.coerce.number().int().positive(), filename: z.string().min(1) }),
      response: z.record(z.string(), z.unknown()),
      errors: [400, 401, 404],
    },
    async ({ params }) => {
      const row = await getImportByBuildId(deps.pool, params.koji_build_id);
      const build = (row?.cg_metadata as { build?: { extra?: unknown } } | null)?.build;
      const info = build ? imageInfo(build, params.filename) : undefined;
      if (!info) throw notFound(`image ${params.filename} of Koji build ${params.koji_build_id}`);
      return info;
    },
  );
}
