import { context, propagation, trace } from "@opentelemetry/api";
import type { Logger } from "../log.js";
import { PACKAGE_NAME, VERSION } from "../version.js";

export interface Tracing {
  /** Sends the spans still buffered, then stops exporting. */
  shutdown(): Promise<void>;
}

let started: Tracing | undefined;

/**
 * OpenTelemetry traces over OTLP/HTTP, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set (the SDK's own
 * convention: spans go to its `/v1/traces`; the exporter reads OTEL_EXPORTER_OTLP_HEADERS and the rest itself).
 * Without it the API's no-op tracer stays in place and spans cost nothing. Registered once per process: the
 * tracer provider, the context manager and the propagator are process-wide by nature. Without the endpoint the
 * SDK is not even loaded.
 */
export async function startTracing(
  endpoint: string | undefined,
  logger: Logger,
): Promise<Tracing | undefined> {
  if (!endpoint) return undefined;
  if (started) return started;
  // The SDK is loaded only when traces are on: the CLI's other commands start without it.
  const [
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { BasicTracerProvider, BatchSpanProcessor },
    { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION },
  ] = await Promise.all([
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/semantic-conventions"),
  ]);
  if (started) return started;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: PACKAGE_NAME, [ATTR_SERVICE_VERSION]: VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint) }))],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  logger.info({ endpoint }, "tracing: exporting spans over OTLP/HTTP");
  const tracing: Tracing = {
    async shutdown() {
      if (started !== tracing) return;
      started = undefined;
      await provider.shutdown().catch((error: unknown) => logger.warn({ err: error }, "tracing shutdown"));
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
  started = tracing;
  return tracing;
}

/** The signal path after the base endpoint, as the OTLP exporter specification says for the generic variable. */
function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

export const tracer = () => trace.getTracer(PACKAGE_NAME, VERSION);
