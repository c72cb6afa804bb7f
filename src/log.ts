import { type Logger, pino } from "pino";

export type { Logger };

/**
 * JSON to stdout, nothing else: pretty printing is `pino-pretty` in a pipe, never in the process.
 * Secrets never reach a log line: the redact list covers every place a token or key could sit.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service: "osbuild-koji-importer" },
    redact: {
      paths: [
        "token",
        "*.token",
        "session_key",
        "*.session_key",
        "headers.authorization",
        "req.headers.authorization",
        "*.client_secret",
        "*.password",
      ],
      censor: "[redacted]",
    },
  });
}
