import type pg from "pg";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { TopologyNames } from "../queue/topology.js";
import type { AdminAmqp } from "./amqp.js";
import type { AdminAuth } from "./auth.js";
import type { RouteDoc } from "./route.js";

/** What the admin routes need: the store, the broker, the queue names, metrics, and access control. */
export interface AdminDeps {
  pool: pg.Pool;
  amqp: AdminAmqp;
  names: TopologyNames;
  metrics: Metrics;
  auth: AdminAuth;
  logger: Logger;
  docs: RouteDoc[];
  /** /readyz's checks, each "ok" or why not; without it /readyz checks the pool and the broker itself. */
  readiness?: () => Promise<Record<string, string>>;
}
