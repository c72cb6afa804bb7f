import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { context, type HrTime, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics.js";
import { startWorker } from "../src/service/worker.js";

/**
 * The import worker of `bench/overhead.ts`, in a process of its own so /proc/<pid>/stat charges it alone: what
 * `osbuild-koji-importer worker` runs (configuration from the environment, JSON logs on stdout), plus three
 * things the bench asks for over the IPC channel, each off until asked:
 * - `spans`: a tracer that records, per import attempt, the time spent inside composer and Koji calls (the
 *   service's own call spans, `src/telemetry/calls.ts`) and sends it to the bench; nothing is exported.
 * - `profile-start` / `profile-stop`: V8's CPU profiler (what `node --cpu-prof` runs) over just that window, so
 *   start-up and warm-up stay out of the .cpuprofile.
 * - `stop`: the worker's own graceful stop, then exit.
 * It reports the count of finished imports (the worker's own counter) whenever it changes.
 */

type Command =
  | { cmd: "spans" }
  | { cmd: "profile-start"; intervalUs: number }
  | { cmd: "profile-stop"; file: string }
  | { cmd: "stop" };

const send = (message: unknown) => process.send?.(message);
const ms = ([seconds, nanos]: HrTime) => seconds * 1000 + nanos / 1e6;

/** The time inside calls per import attempt: the union of its call spans (a step may run two calls at once). */
class CallTimeRecorder implements SpanProcessor {
  private readonly calls = new Map<string, Array<[number, number]>>();

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    if (span.name.startsWith("koji ") || span.name.startsWith("composer ")) {
      const list = this.calls.get(traceId) ?? [];
      list.push([ms(span.startTime), ms(span.endTime)]);
      this.calls.set(traceId, list);
      return;
    }
    if (span.name !== "import attempt") return;
    const intervals = (this.calls.get(traceId) ?? []).sort((a, b) => a[0] - b[0]);
    this.calls.delete(traceId);
    let inside = 0;
    let coveredUntil = Number.NEGATIVE_INFINITY;
    for (const [start, end] of intervals) {
      const from = Math.max(start, coveredUntil);
      if (end > from) inside += end - from;
      coveredUntil = Math.max(coveredUntil, end);
    }
    send({
      attempt: {
        composeId: span.attributes["importer.compose_id"],
        callsMs: inside,
        calls: intervals.length,
        attemptMs: ms(span.endTime) - ms(span.startTime),
      },
    });
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function startSpans(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new CallTimeRecorder()] }));
}

const inspector = new Session();
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    inspector.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);
const metrics = createMetrics();
const worker = await startWorker(config, logger, metrics);

let reported = -1;
const reporter = setInterval(async () => {
  const finished = (await metrics.importsFinished.get()).values.reduce((sum, { value }) => sum + value, 0);
  if (finished !== reported) send({ finished });
  reported = finished;
}, 20);

process.on("message", async (message: Command) => {
  switch (message.cmd) {
    case "spans":
      startSpans();
      send({ ok: "spans" });
      return;
    case "profile-start":
      inspector.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: message.intervalUs });
      await post("Profiler.start");
      send({ ok: "profile-start" });
      return;
    case "profile-stop": {
      const { profile } = (await post("Profiler.stop")) as { profile: unknown };
      writeFileSync(message.file, JSON.stringify(profile));
      inspector.disconnect();
      send({ ok: "profile-stop" });
      return;
    }
    case "stop":
      clearInterval(reporter);
      await worker.stop();
      process.exit(0);
  }
});
send({ ready: true });
