import { describeConfig, loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { startAdmin } from "../service/admin.js";
import { onShutdownSignal } from "../service/signals.js";
import { checkStartup } from "../service/startup-checks.js";
import { startWorker } from "../service/worker.js";
import { noArguments } from "./no-arguments.js";

export const summary = "run the worker and the admin HTTP API in one process (the default in the image)";

export const usage = `usage: osbuild-koji-importer start\n\n${summary}; it reads its configuration from the environment (README: Configuration).`;

export async function run(argv: string[]): Promise<number> {
  noArguments(argv, usage);
  const config = loadConfig();
  await checkStartup(config, ["worker", "admin"]);
  const logger = createLogger(config.LOG_LEVEL);
  logger.info({ config: describeConfig(config) }, "starting worker and admin");
  // One metrics registry, so /metrics shows what this process's worker did.
  const metrics = createMetrics();
  const worker = await startWorker(config, logger, metrics);
  const admin = await startAdmin(config, logger, metrics);
  await onShutdownSignal(logger, async () => {
    await worker.stop();
    await admin.stop();
  });
  return 0;
}
