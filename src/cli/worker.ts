import { describeConfig, loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { onShutdownSignal } from "../service/signals.js";
import { checkStartup } from "../service/startup-checks.js";
import { startWorker } from "../service/worker.js";
import { noArguments } from "./no-arguments.js";

export const summary = "consume compose-finished events and import them into Koji";

export const usage = `usage: osbuild-koji-importer worker\n\n${summary}; it reads its configuration from the environment (README: Configuration).`;

export async function run(argv: string[]): Promise<number> {
  noArguments(argv, usage);
  const config = loadConfig();
  await checkStartup(config, ["worker"]);
  const logger = createLogger(config.LOG_LEVEL);
  logger.info({ config: describeConfig(config) }, "starting worker");
  const worker = await startWorker(config, logger, createMetrics());
  await onShutdownSignal(logger, () => worker.stop(), { deadlineMs: config.SHUTDOWN_TIMEOUT + 10_000 });
  return 0;
}
