import { loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { runMigrations } from "../store/migrate.js";

export const summary = "apply the database migrations (DATABASE_URL)";

export async function run(): Promise<number> {
  const config = loadConfig();
  await runMigrations(config.DATABASE_URL, createLogger(config.LOG_LEVEL));
  return 0;
}
