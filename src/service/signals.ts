import type { Logger } from "../log.js";

/** SIGTERM (Kubernetes) and SIGINT (a person) stop the process gracefully; a second signal exits at once. */
export function onShutdownSignal(logger: Logger, shutdown: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handle = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal; exiting now");
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, "shutting down");
      shutdown().then(resolve, (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        resolve();
      });
    };
    process.on("SIGTERM", handle);
    process.on("SIGINT", handle);
  });
}
