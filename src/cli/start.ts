import { describeConfig, loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { type AdminService, startAdmin } from "../service/admin.js";
import { DependencyMonitor } from "../service/dependencies.js";
import { onShutdownSignal } from "../service/signals.js";
import { checkStartup } from "../service/startup-checks.js";
import { startWorker, type Worker } from "../service/worker.js";
import { noArguments } from "./no-arguments.js";

export const summary = "run the worker and the admin HTTP API in one process (the default in the image)";

export const usage = `usage: osbuild-koji-importer start\n\n${summary}; it reads its configuration from the environment (README: Configuration).`;

/**
 * The admin API listens first, whatever state the broker and the database are in (a liveness probe must get its
 * answer, and /readyz says what is missing); the worker consumes once the database is usable and the broker
 * connected, and pauses while the database is away.
 */
export async function run(argv: string[]): Promise<number> {
  noArguments(argv, usage);
  const config = loadConfig();
  await checkStartup(config, ["worker", "admin"]);
  const logger = createLogger(config.LOG_LEVEL);
  logger.info({ config: describeConfig(config) }, "starting worker and admin");
  let worker: Worker | undefined;
  let admin: AdminService | undefined;
  let stopping = false;
  const monitor = new DependencyMonitor({
    databaseUrl: config.DATABASE_URL,
    amqp: async () => (worker?.consumer.isConnected ? "ok" : "not connected"),
    migrate: config.MIGRATE_ON_START,
    logger,
  });
  const stopped = onShutdownSignal(
    logger,
    async () => {
      stopping = true;
      await worker?.stop();
      await admin?.stop();
      await monitor.stop();
    },
    { deadlineMs: config.SHUTDOWN_TIMEOUT + 10_000 },
  );
  // One metrics registry, so /metrics shows what this process's worker did.
  const metrics = createMetrics();
  admin = await startAdmin(config, logger, metrics, { readiness: () => monitor.refresh() });
  if (!stopping) {
    worker = await startWorker(config, logger, metrics, { monitor });
    monitor.start();
  } else await admin.stop();
  await stopped;
  return 0;
}
