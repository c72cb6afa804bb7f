import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/log.js";
import { startWorker, type Worker } from "../../src/service/worker.js";
import { createHarness, type Harness } from "../pipeline/harness.js";
import { type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.js";

let h: Harness;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let worker: Worker;
const lines: Array<Record<string, unknown>> = [];

const traceParentId = randomBytes(16).toString("hex");
const parentSpanId = randomBytes(8).toString("hex");

beforeAll(async () => {
  h = await createHarness("telemetry");
  receiver = await startOtlpReceiver();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const config = loadConfig({ ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  worker = await startWorker(config, createLogger("info", sink), h.metrics);
});

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await h?.close();
});

const attemptsOf = (spans: ReceivedSpan[]) => spans.filter((s) => s.name === "import attempt");

describe("traces and metrics of an import", () => {
  it("traces each attempt under the message's traceparent, a span per step and per call, and logs the trace id", async () => {
    const ok = await h.prepareCompose();
    await h.publisher.publishJson(h.config.AMQP_EXCHANGE, h.config.AMQP_ROUTING_KEY, ok.event, {
      traceparent: `00-${traceParentId}-${parentSpanId}-01`,
    });
    expect((await h.waitForState(ok.composeId, ["imported", "failed"])).state).toBe("imported");
    // A compose for a hub nobody configured: a permanent failure with its code.
    const bad = await h.prepareCompose();
    await h.publish({ ...bad.event, koji: { ...bad.event.koji, server: "https://koji.invalid/kojihub" } });
    expect((await h.waitForState(bad.composeId, ["imported", "failed"])).state).toBe("failed");
    await worker.stop(); // flushes the spans still buffered

    const attempt = attemptsOf(receiver.spans).find(
      (s) => s.attributes["importer.compose_id"] === ok.composeId,
    );
    expect(attempt?.traceId).toBe(traceParentId);
    expect(attempt?.parentSpanId).toBe(parentSpanId);
    const trace = receiver.spans.filter((s) => s.traceId === traceParentId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const steps = trace.filter((s) => s.parentSpanId === attempt?.spanId).map((s) => s.name);
    expect(steps).toEqual(
      expect.arrayContaining([
        "step fetch",
        "step assemble",
        "step reserve",
        "step check-uploads",
        "step import",
      ]),
    );
    const composerCall = trace.find((s) => s.name === "composer status");
    expect(composerCall?.attributes["rpc.method"]).toBe("status");
    expect(byId.get(composerCall?.parentSpanId ?? "")?.name).toBe("step fetch");
    const cgImport = trace.find((s) => s.name === "koji CGImport");
    expect(cgImport?.attributes["koji.hub"]).toBe(JSON.parse(h.env.KOJI_HUBS as string)[0].url);
    expect(byId.get(cgImport?.parentSpanId ?? "")?.name).toBe("step import");

    // The failed attempt is a trace of its own, marked failed with its code.
    const failed = attemptsOf(receiver.spans).find(
      (s) => s.attributes["importer.compose_id"] === bad.composeId,
    );
    expect(failed?.traceId).not.toBe(traceParentId);
    expect(failed?.status?.code).toBe(2);
    expect(failed?.attributes["error.type"]).toBe("KOJI_UNKNOWN_HUB");

    // The attempt's own lines (each step's); the result relay's later line belongs to no attempt.
    const stepLines = lines.filter((l) => l.compose_id === ok.composeId && l.step !== undefined);
    expect(stepLines.length).toBeGreaterThanOrEqual(2);
    expect(stepLines.map((l) => l.trace_id)).toEqual(stepLines.map(() => traceParentId));
  });

  it("counts the calls, the outcome with its failure code, and the last success", async () => {
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(
      /importer_composer_request_duration_seconds_count\{endpoint="status",outcome="ok"\} [1-9]/,
    );
    expect(text).toMatch(
      /importer_koji_request_duration_seconds_count\{hub="[^"]+",method="CGImport",outcome="ok"\} 1/,
    );
    expect(text).toContain('importer_imports_finished_total{state="imported",code=""} 1');
    expect(text).toContain('importer_imports_finished_total{state="failed",code="KOJI_UNKNOWN_HUB"} 1');
    expect(text).toContain("importer_imports_in_flight 0");
    const last = /^importer_last_import_success_timestamp_seconds (\S+)$/m.exec(text)?.[1];
    expect(Number(last)).toBeGreaterThan(Date.now() / 1000 - 120);
  });

  it("counts a hub's fault by method and fault name", async () => {
    // A refund of a build that does not exist: the hub answers with a fault.
    const { KojiHubs } = await import("../../src/koji/hubs.js");
    const { metricsObserver } = await import("../../src/telemetry/calls.js");
    const hubs = new KojiHubs({
      hubs: JSON.parse(h.env.KOJI_HUBS as string),
      observer: metricsObserver(h.metrics),
    });
    try {
      const client = await hubs.client(JSON.parse(h.env.KOJI_HUBS as string)[0].url);
      await expect(client.CGRefundBuild(999_999_999, "no-such-token")).rejects.toThrow();
    } finally {
      await hubs.close();
    }
    expect(await h.metrics.registry.metrics()).toMatch(
      /importer_koji_request_errors_total\{hub="[^"]+",method="CGRefundBuild",code="KOJI_FAULT",fault="\w+"\} 1/,
    );
  });
});
