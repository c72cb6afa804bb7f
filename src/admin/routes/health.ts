import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { queueDepths } from "../../queue/queue-depths.js";
import { pendingMigrations } from "../../store/migrate.js";
import { outboxBacklog } from "../../store/result-outbox.js";
import { VERSION } from "../../version.js";
import type { AdminDeps } from "../deps.js";
import { createRouter } from "../route.js";

const Health = z.object({ status: z.literal("ok"), version: z.string() });
const Ready = z.object({ status: z.enum(["ready", "not ready"]), checks: z.record(z.string(), z.string()) });

async function checkDirectly(deps: AdminDeps): Promise<Record<string, string>> {
  const checks: Record<string, string> = {};
  try {
    const pending = await pendingMigrations(deps.pool);
    checks.database = "ok";
    checks.migrations = pending.length === 0 ? "ok" : `pending: ${pending.join(", ")}`;
  } catch (error) {
    checks.database = `unreachable: ${(error as Error).message}`;
    checks.migrations = "unknown";
  }
  checks.amqp = await deps.amqp.check();
  return checks;
}

export async function healthRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const route = createRouter(app, deps.docs, deps.auth);

  route(
    {
      method: "GET",
      url: "/healthz",
      summary: "the process is alive, and its version; never asks for a token",
      access: "health",
      response: Health,
      errors: [],
    },
    async () => ({ status: "ok" as const, version: VERSION }),
  );

  route(
    {
      method: "GET",
      url: "/readyz",
      summary:
        "database reachable, AMQP connected, migrations current; 503 names each missing part; never asks for a token",
      access: "health",
      response: Ready,
      errors: [503],
    },
    async ({ reply }) => {
      const checks = deps.readiness ? await deps.readiness() : await checkDirectly(deps);
      const ready = Object.values(checks).every((v) => v === "ok");
      reply.code(ready ? 200 : 503);
      return { status: ready ? "ready" : "not ready", checks };
    },
  );

  route(
    {
      method: "GET",
      url: "/metrics",
      summary: "Prometheus metrics; a token only when ADMIN_METRICS_AUTH=token",
      access: "metrics",
      response: z.string(),
      errors: [],
    },
    async ({ reply }) => {
      await queueDepths(deps.amqp, deps.names)
        .then((depths) => {
          for (const { queue, role, messages } of depths) {
            if (messages !== null) deps.metrics.queueDepth.set({ queue, role }, messages);
          }
        })
        .catch((error: unknown) => deps.logger.warn({ err: error }, "cannot read queue depths"));
      // A backlog of unpublished results is for alerts (outbox not draining), never for /readyz: the relay
      // publishes it once the broker is back, and an unready pod would only stop its admin API meanwhile.
      await outboxBacklog(deps.pool)
        .then((backlog) => {
          deps.metrics.outboxPending.set(backlog.pending);
          deps.metrics.outboxOldestPendingAge.set(backlog.oldestAgeSeconds);
        })
        .catch((error: unknown) => deps.logger.warn({ err: error }, "cannot read the result outbox"));
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
}
