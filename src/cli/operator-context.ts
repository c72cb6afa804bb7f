import type pg from "pg";
import { AdminAmqp } from "../admin/amqp.js";
import { loadConfig } from "../config/load.js";
import type { TopologyNames } from "../queue/topology.js";
import { namesFromConfig } from "../service/admin.js";
import { createPool } from "../store/db.js";

/** What the SRE commands work with, from the same configuration as the service; closed after the command. */
export interface OperatorContext {
  pool: pg.Pool;
  amqp: AdminAmqp;
  names: TopologyNames;
}

export async function withOperatorContext<T>(work: (ctx: OperatorContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const ctx = {
    pool: createPool(config.DATABASE_URL, 2),
    amqp: new AdminAmqp(config.AMQP_URL),
    names: namesFromConfig(config),
  };
  try {
    return await work(ctx);
  } finally {
    await ctx.amqp.close();
    await ctx.pool.end();
  }
}
