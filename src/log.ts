import { trace } from "@opentelemetry/api";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import { ImporterError, UNEXPECTED } from "./errors.js";

export type { Logger };

/**
 * JSON to stdout, nothing else: pretty printing is `pino-pretty` in a pipe, never in the process.
 * Secrets never reach a log line: the redact list covers every place a token or key could sit.
 */
export function createLogger(
  level = process.env.LOG_LEVEL ?? "info",
  /** Where lines go; stdout unless a test collects them. */
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: "osbuild-koji-importer" },
    // The trace id of the import attempt (when tracing is on) on each of its lines, to find its trace.
    mixin() {
      const span = trace.getActiveSpan();
      return span?.isRecording() ? { trace_id: span.spanContext().traceId } : {};
    },
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
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * An error for a log line: an expected one (an ImporterError the importer classified: an invalid event, a
 * permanent Koji fault, a retryable outage) by its code, class and message, without a stack trace nobody needs;
 * anything unexpected as `err`, with its stack, because that one is a bug to find.
 */
export function logError(error: unknown): Record<string, unknown> {
  if (error instanceof ImporterError && error.code !== UNEXPECTED) {
    return { error: { code: error.code, class: error.errorClass, message: error.message } };
  }
  return { err: error };
}
