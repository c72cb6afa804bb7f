import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { dependencyFailure } from "../dependency-failure.js";
import { type HttpCode, httpStatusOf } from "../error-codes.js";
import type { Logger } from "../log.js";
import { VERSION } from "../version.js";
import type { AdminDeps } from "./deps.js";
import { HttpError } from "./errors.js";
import { openApiDocument } from "./openapi.js";
import { AdminRequestLog } from "./request-log.js";
import { buildRoutes } from "./routes/builds.js";
import { deadLetterRoutes } from "./routes/dead-letters.js";
import { healthRoutes } from "./routes/health.js";
import { importRoutes } from "./routes/imports.js";

/**
 * The admin HTTP API: health, metrics, imports, builds and dead letters, one plugin each, and /openapi.json made
 * from the routes' own schemas. Errors are JSON `{error, message, details?}`.
 */
export async function buildAdminServer(
  deps: Omit<AdminDeps, "docs">,
  logger: Logger,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger.child({ component: "admin" }) as FastifyBaseLogger,
    logController: new AdminRequestLog(),
  });
  const full: AdminDeps = { ...deps, docs: [] };

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) {
      reply.code(error.status).send({
        error: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      });
      return;
    }
    const outage = dependencyFailure(error);
    if (outage) {
      // The database or the broker is down, or the schema is not migrated: the request may succeed later.
      request.log.warn({ err: outage }, "admin request failed: a dependency is unavailable");
      reply.code(503).send({ error: outage.code, message: outage.message });
      return;
    }
    // fastify's own refusals (a body that is not JSON, too large, of another type) keep their 4xx status.
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      reply
        .code(status)
        .send({ error: "INVALID_REQUEST" satisfies HttpCode, message: (error as Error).message });
      return;
    }
    request.log.error({ err: error }, "admin request failed");
    reply
      .code(httpStatusOf("INTERNAL"))
      .send({ error: "INTERNAL" satisfies HttpCode, message: "internal error; see the service log" });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new HttpError("NOT_FOUND", `no route ${request.method} ${request.url}`);
    reply.code(error.status).send({ error: error.code, message: error.message });
  });

  await app.register(async (scope) => healthRoutes(scope, full));
  await app.register(async (scope) => importRoutes(scope, full));
  await app.register(async (scope) => buildRoutes(scope, full));
  await app.register(async (scope) => deadLetterRoutes(scope, full));
  app.get("/openapi.json", async () => openApiDocument(full.docs, VERSION));
  return app;
}
