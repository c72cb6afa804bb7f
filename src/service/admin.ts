import { AdminAmqp } from "../admin/amqp.js";
import { bearerAuth } from "../admin/auth.js";
import { buildAdminServer } from "../admin/server.js";
import type { Config } from "../config/load.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { topologyNames } from "../queue/topology.js";
import { createPool } from "../store/db.js";

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

/** The admin HTTP server on ADMIN_HOST:ADMIN_PORT, with its own small pool and broker connection. */
export async function startAdmin(config: Config, logger: Logger, metrics: Metrics): Promise<AdminService> {
  if (!config.ADMIN_TOKEN) {
    logger.warn(
      "ADMIN_TOKEN is not set: the mutating admin routes (retry, dead-letter replay) answer 401 until it is",
    );
  }
  const pool = createPool(config.DATABASE_URL, 3);
  const amqp = new AdminAmqp(config.AMQP_URL);
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
    },
    logger,
  );
  const url = await app.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT });
  logger.info({ url }, "admin HTTP listening");
  return {
    url,
    async stop() {
      await app.close();
      await amqp.close();
      await pool.end();
    },
  };
}
