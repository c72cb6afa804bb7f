import type { Logger } from "../log.js";

/** After a clean shutdown, what may still hold the event loop (a keep-alive socket) gets this long. */
const LINGER_MS = 2000;

/**
 * SIGTERM (Kubernetes) and SIGINT (a person) stop the process gracefully; a second signal exits at once, and so
 * does a shutdown that overruns `deadlineMs`. Installed before anything starts, so a signal while the process
 * still waits for its broker or database ends it cleanly too. Resolves when the shutdown is done.
 */
export function onShutdownSignal(
  logger: Logger,
  shutdown: () => Promise<void>,
  options: { deadlineMs?: number } = {},
): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handle = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal; exiting now");
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, "shutting down");
      if (options.deadlineMs !== undefined) {
        setTimeout(() => {
          logger.error({ deadline_ms: options.deadlineMs }, "shutdown overran its deadline; exiting now");
          process.exit(1);
        }, options.deadlineMs).unref();
      }
      const done = () => {
        process.off("SIGTERM", handle);
        process.off("SIGINT", handle);
        logger.info("stopped");
        setTimeout(() => process.exit(process.exitCode ?? 0), LINGER_MS).unref();
        resolve();
      };
      shutdown().then(done, (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        done();
      });
    };
    process.on("SIGTERM", handle);
    process.on("SIGINT", handle);
  });
}
