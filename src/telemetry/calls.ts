import { ImporterError, UNEXPECTED } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { inSpan } from "./spans.js";

/** One request to composer (`method` is the endpoint: status, logs, ...) or one XML-RPC call to a Koji hub. */
export type OutboundCall =
  | { system: "composer"; method: string }
  | { system: "koji"; method: string; hub: string };

/** Told of every outbound call once it ends: how long it took and what it failed with, if it did. */
export type CallObserver = (call: OutboundCall, seconds: number, error: unknown) => void;

/**
 * Runs one outbound call in a span of its own (method, hub, and on failure the error code and Koji fault) and
 * reports it to the observer, which the service wires to the request metrics.
 */
export function observeCall<T>(
  observer: CallObserver | undefined,
  call: OutboundCall,
  fn: () => Promise<T>,
): Promise<T> {
  const attributes =
    call.system === "koji"
      ? { "rpc.system": "xmlrpc", "rpc.service": "koji", "rpc.method": call.method, "koji.hub": call.hub }
      : { "rpc.system": "http", "rpc.service": "composer", "rpc.method": call.method };
  return inSpan(`${call.system} ${call.method}`, attributes, async () => {
    const startedAt = performance.now();
    try {
      const result = await fn();
      observer?.(call, (performance.now() - startedAt) / 1000, undefined);
      return result;
    } catch (error) {
      observer?.(call, (performance.now() - startedAt) / 1000, error);
      throw error;
    }
  });
}

const codeOf = (error: unknown) => (error instanceof ImporterError ? error.code : UNEXPECTED);

/** Request latency histograms and error counters, by endpoint for composer and by hub and method for Koji. */
export function metricsObserver(metrics: Metrics): CallObserver {
  return (call, seconds, error) => {
    const outcome = error === undefined ? "ok" : "error";
    if (call.system === "composer") {
      metrics.composerRequestDuration.observe({ endpoint: call.method, outcome }, seconds);
      if (error !== undefined)
        metrics.composerRequestErrors.inc({ endpoint: call.method, code: codeOf(error) });
      return;
    }
    metrics.kojiRequestDuration.observe({ hub: call.hub, method: call.method, outcome }, seconds);
    if (error !== undefined) {
      const fault = (error as { faultName?: unknown }).faultName;
      metrics.kojiRequestErrors.inc({
        hub: call.hub,
        method: call.method,
        code: codeOf(error),
        fault: typeof fault === "string" ? fault : "",
      });
    }
  };
}
