import { readFileSync } from "node:fs";
import type { ComposerClientOptions } from "../composer/options.js";
import type { Config } from "../config/load.js";
import type { Logger } from "../log.js";

/** The composer client's options from the configuration (files read here, so the client sees only contents). */
export function composerOptions(config: Config, logger: Logger): ComposerClientOptions {
  const read = (file: string) => readFileSync(file);
  const auth: ComposerClientOptions["auth"] =
    config.COMPOSER_AUTH === "oauth"
      ? {
          mode: "oauth",
          tokenUrl: config.COMPOSER_TOKEN_URL as string,
          clientId: config.COMPOSER_CLIENT_ID as string,
          clientSecret: config.COMPOSER_CLIENT_SECRET as string,
        }
      : config.COMPOSER_AUTH === "mtls"
        ? {
            mode: "mtls",
            cert: read(config.COMPOSER_CERT_FILE as string),
            key: read(config.COMPOSER_KEY_FILE as string),
          }
        : { mode: "none" };
  return {
    url: config.COMPOSER_URL,
    auth,
    ...(config.COMPOSER_CA_FILE ? { ca: read(config.COMPOSER_CA_FILE) } : {}),
    timeouts: {
      connectMs: config.COMPOSER_TIMEOUT,
      headersMs: config.COMPOSER_TIMEOUT,
      bodyMs: config.COMPOSER_TIMEOUT,
    },
    retry: { maxRetries: config.COMPOSER_MAX_RETRIES },
    connections: Math.max(4, config.AMQP_PREFETCH * 2),
    logger,
  };
}
