import { loadavg } from "node:os";
import { latencyFromSettings } from "../test/fakes/koji/latency.js";

/**
 * What the hub benches share: the hub-bound latency model, the machine's load to print beside every figure, and
 * the verdict line each bench ends with.
 */

/**
 * The hub-bound fake: CGImport 200 ms with at most 4 at once (a hub with 4 Apache workers free for it), the other
 * calls a few milliseconds. Its ceiling is 4 / 0.2 s = 20 imports/s.
 */
export const HUB_BOUND_MODEL = {
  serviceMs: "CGImport=200,CGInitBuild=5,checkUpload=2,getBuild=3,getArchiveTypes=3,sslLogin=10",
  maxConcurrent: "CGImport=4",
};

/** The model from the bench's options (defaults: `defaults`), and the CGImport ceiling it implies. */
export function latencyOption(
  options: {
    "service-ms"?: string | undefined;
    "max-concurrent"?: string | undefined;
    "hub-concurrency"?: string | undefined;
  },
  defaults = HUB_BOUND_MODEL,
) {
  const { latency } = latencyFromSettings({
    serviceMs: options["service-ms"] ?? defaults.serviceMs,
    maxConcurrent: options["max-concurrent"] ?? defaults.maxConcurrent,
    hubConcurrency: options["hub-concurrency"],
  });
  const ms = latency.serviceMs.CGImport ?? 0;
  const slots = Math.min(latency.maxConcurrent.CGImport ?? Number.POSITIVE_INFINITY, latency.hubConcurrency);
  return { latency, ceiling: ms > 0 ? slots / (ms / 1000) : Number.POSITIVE_INFINITY };
}

export function describeModel(latency: ReturnType<typeof latencyOption>["latency"]): string {
  const pairs = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  const hub = Number.isFinite(latency.hubConcurrency)
    ? `, hub ${latency.hubConcurrency} requests at once`
    : "";
  return `service ms ${pairs(latency.serviceMs)}; at once ${pairs(latency.maxConcurrent)}${hub}`;
}

/** `uptime`'s load averages, to print with every figure: the machine is shared. */
export function load(): string {
  return `load ${loadavg()
    .map((n) => n.toFixed(2))
    .join(" ")}`;
}

export const rate = (count: number, seconds: number) => count / seconds;
export const fixed = (n: number, digits = 1) => n.toFixed(digits);

/** The last line of every bench: `PASS figure vs target` or `MISS ...`, and the exit code. */
export function verdict(pass: boolean, text: string): void {
  console.log(`${pass ? "PASS" : "MISS"} ${text}`);
  process.exitCode = pass ? 0 : 1;
}
