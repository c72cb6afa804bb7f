import { describeConfig, loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { type AdminService, startAdmin } from "../service/admin.js";
import { onShutdownSignal } from "../service/signals.js";
import { checkStartup } from "../service/startup-checks.js";
import { noArguments } from "./no-arguments.js";

export const summary = "run the admin HTTP API alone";

export const usage = `usage: osbuild-koji-importer serve\n\n${summary}; it reads its configuration from the environment (README: Configuration).`;

export async function run(argv: string[]): Promise<number> {
  noArguments(argv, usage);
  const config = loadConfig();
  await checkStartup(config, ["admin"]);
  const logger = createLogger(config.LOG_LEVEL);
  logger.info({ config: describeConfig(config) }, "starting admin");
  let admin: AdminService | undefined;
  const stopped = onShutdownSignal(logger, async () => {
    await admin?.stop();
  });
  let stopping = false;
  void stopped.then(() => {
    stopping = true;
  });
  admin = await startAdmin(config, logger, createMetrics());
  if (stopping) await admin.stop();
  await stopped;
  return 0;
}
