import { loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { runMigrations } from "../store/migrate.js";
import { noArguments } from "./no-arguments.js";

export const summary = "apply the database migrations (DATABASE_URL)";

export const usage = `usage: osbuild-koji-importer migrate\n\n${summary}; it reads its configuration from the environment (README: Configuration).`;

export async function run(argv: string[]): Promise<number> {
  noArguments(argv, usage);
  const config = loadConfig();
  await runMigrations(config.DATABASE_URL, createLogger(config.LOG_LEVEL));
  return 0;
}
