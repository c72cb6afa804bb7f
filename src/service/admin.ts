import { AdminAmqp } from "../admin/amqp.js";
import { bearerAuth } from "../admin/auth.js";
import { buildAdminServer } from "../admin/server.js";
import type { Config } from "../config/load.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { topologyNames } from "../queue/topology.js";
import { createPool } from "../store/db.js";
import { DependencyMonitor } from "./dependencies.js";

export interface AdminService {
  url: string;
  stop(): Promise<void>;
}

export function namesFromConfig(config: Config) {
  return topologyNames({
    exchange: config.AMQP_EXCHANGE,
    routingKey: config.AMQP_ROUTING_KEY,
    queue: config.AMQP_QUEUE,
    retryDelaysMs: config.RETRY_DELAYS,
  });
}

/**
 * The admin HTTP server on ADMIN_HOST:ADMIN_PORT, with its own small pool and broker connection. It listens
 * whatever state the database and the broker are in: /healthz answers while they are away, and /readyz names them.
 * `readiness` is the worker's view in `start` (its monitor and its consumer); alone (`serve`) the API checks the
 * database and its own broker connection on each /readyz.
 */
export async function startAdmin(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  options: { readiness?: () => Promise<Record<string, string>> } = {},
): Promise<AdminService> {
  if (!config.ADMIN_TOKEN) {
    logger.warn(
      "ADMIN_TOKEN is not set: the mutating admin routes (retry, dead-letter replay) answer 401 until it is",
    );
  }
  const pool = createPool(config.DATABASE_URL, 3, logger);
  const amqp = new AdminAmqp(config.AMQP_URL, logger);
  const own = options.readiness
    ? undefined
    : new DependencyMonitor({
        databaseUrl: config.DATABASE_URL,
        amqp: () => amqp.check(),
        logger,
      });
  const app = await buildAdminServer(
    {
      pool,
      amqp,
      names: namesFromConfig(config),
      metrics,
      auth: bearerAuth(config.ADMIN_TOKEN, {
        read: config.ADMIN_READ_AUTH,
        metrics: config.ADMIN_METRICS_AUTH,
      }),
      logger,
      readiness: options.readiness ?? (() => (own as DependencyMonitor).refresh()),
    },
    logger,
  );
  const url = await app.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT });
  logger.info({ url }, "admin HTTP listening");
  return {
    url,
    async stop() {
      await app.close();
      await own?.stop();
      await amqp.close();
      await pool.end();
    },
  };
}
