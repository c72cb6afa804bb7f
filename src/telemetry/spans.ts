import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
} from "@opentelemetry/api";
import { ImporterError, UNEXPECTED } from "../errors.js";
import { tracer } from "./tracing.js";

/** What went wrong, as span attributes: the importer's error code, and a Koji fault's code and name. */
export function errorAttributes(error: unknown): Attributes {
  if (!(error instanceof ImporterError)) return { "error.type": UNEXPECTED };
  const attributes: Attributes = { "error.type": error.code };
  const { faultCode, faultName } = error.details as { faultCode?: unknown; faultName?: unknown };
  if (typeof faultCode === "number") attributes["koji.fault_code"] = faultCode;
  if (typeof faultName === "string") attributes["koji.fault_name"] = faultName;
  return attributes;
}

/** Runs `fn` in a span that is a child of the active one; a throw marks the span failed with the error's code. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.setAttributes(errorAttributes(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The context a message's `traceparent` (and `tracestate`) header names, or a new trace's root without one. */
export function contextFromHeaders(headers: Record<string, unknown> | undefined): Context {
  const carrier: Record<string, string> = {};
  for (const name of ["traceparent", "tracestate"]) {
    const value = headers?.[name];
    if (typeof value === "string") carrier[name] = value;
    else if (Buffer.isBuffer(value)) carrier[name] = value.toString("utf8");
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}
