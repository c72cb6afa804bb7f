/**
 * Assembly of a large compose (issue 19, item 5): from composer's response bodies to the CGImport request body,
 * through the service's own code, in one process with nothing else in it.
 *
 *   npm run bench:assembly -- [--arches 4] [--rpms 2000] [--build-rpms 400] [--sboms 3] [--runs 50] [--warmup 20]
 *
 * Each run, as the worker does it for one import:
 * - parse: each body read as the composer client reads it (readJson: the depth check on the text, JSON.parse),
 * - validate: each checked as the client checks it (parseBody: the jsonb-storable check, the zod schema),
 * - assemble: the CG document (src/core assembleCgMetadata: every RPM checked, the document checked against
 *   Koji's rules),
 * - serialize: the document with its build id as JSON, carried in the XML-RPC request CGImport sends
 *   (encodeCall: every string XML-escaped), and that request's size in bytes.
 * The compose's status and logs are what the document is made from; its manifests are fetched, checked and stored
 * too, so their parse and validation are timed beside it, not counted in the target (they never reach the
 * document). Target: parse + validate + assemble + serialize under 50 ms, median and max over the runs after a
 * warm-up; the request's size is printed against KOJI_MAX_METADATA_BYTES' default (4 MiB), the hub's limit.
 */
import { loadavg } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { parseBody, readJson } from "../src/composer/json-body.js";
import type { ResponseBody } from "../src/composer/transport.js";
import { loadConfig } from "../src/config/load.js";
import { assembleCgMetadata, withBuildId } from "../src/core/assemble.js";
import { KojiClient } from "../src/koji/client.js";
import { encodeCall } from "../src/koji/xmlrpc/index.js";
import { ComposeLogsSchema, ComposeManifestsSchema, ComposeStatusSchema } from "../src/schemas/composer.js";
import type { KojiComposeFinishedEvent } from "../src/schemas/event.js";
import { largeCompose } from "./assembly-compose.js";

const TARGET_MS = 50;
const ARCHES = ["x86_64", "aarch64", "ppc64le", "s390x", "riscv64", "i686"];

const { values: args } = parseArgs({
  options: {
    arches: { type: "string", default: "4" },
    rpms: { type: "string", default: "2000" },
    "build-rpms": { type: "string", default: "400" },
    sboms: { type: "string", default: "3" },
    runs: { type: "string", default: "50" },
    warmup: { type: "string", default: "20" },
  },
});

const compose = largeCompose({
  arches: ARCHES.slice(0, Number(args.arches)),
  payloadRpms: Number(args.rpms),
  buildRootRpms: Number(args["build-rpms"]),
  sbomsPerImage: Number(args.sboms),
});
const event = compose.event as unknown as KojiComposeFinishedEvent;
const composeId = event.compose_id;
const maxMetadataBytes = loadConfig({}).KOJI_MAX_METADATA_BYTES;
// The largest reservation Koji hands out, as the pre-flight check measures with: an int4 build id, a 64-digit token.
const BUILD_ID = 2_147_483_647;
const TOKEN = "0".repeat(64);
const MAX_JSON_BYTES = 64 * 1024 * 1024;

const label = (endpoint: string) => ({ method: "GET", endpoint, composeId });
/** The body as undici hands it over: a stream of chunks (64 KiB here, as a socket delivers them). */
function stream(body: Buffer): ResponseBody {
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += 65536) chunks.push(body.subarray(at, at + 65536));
  return Readable.from(chunks) as unknown as ResponseBody;
}

interface Times {
  parse: number;
  validate: number;
  assemble: number;
  serialize: number;
  manifests: number;
}

/** Garbage collection pauses, summed: each run's share is read before and after it. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ["gc"] });

/**
 * How fast this machine hands out fresh memory: a 64 MiB buffer allocated zeroed (every page touched once). Large
 * strings and buffers (a body, the document's JSON, the request) are fresh memory each time, so this rate is a
 * floor under their cost that no code change removes; on a machine where it is slow, so is this bench.
 */
function freshMemoryMBps(): number {
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    Buffer.alloc(64 * 1024 * 1024, 1);
    best = Math.max(best, (64 * 1.048576) / ((performance.now() - started) / 1000));
  }
  return best;
}

async function run(): Promise<{
  times: Times;
  gcMs: number;
  userMs: number;
  systemMs: number;
  jsonBytes: number;
  requestBytes: number;
  checkedBytes: number;
  outputs: number;
}> {
  const gcBefore = gcMs;
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const statusText = await readJson(
    stream(compose.bodies.status),
    label("status"),
    MAX_JSON_BYTES,
    "application/json",
  );
  const logsText = await readJson(
    stream(compose.bodies.logs),
    label("logs"),
    MAX_JSON_BYTES,
    "application/json",
  );
  const t1 = performance.now();
  parseBody(ComposeStatusSchema, statusText, label("status"));
  const logs = parseBody(ComposeLogsSchema, logsText, label("logs"));
  const t2 = performance.now();
  const document = assembleCgMetadata({ event, logs });
  const t3 = performance.now();
  const json = JSON.stringify(withBuildId(document, BUILD_ID));
  const request = encodeCall("CGImport", [json, event.koji.upload_directory, TOKEN]);
  const requestBytes = Buffer.byteLength(request);
  const t4 = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const manifests = await readJson(
    stream(compose.bodies.manifests),
    label("manifests"),
    MAX_JSON_BYTES,
    "application/json",
  );
  parseBody(ComposeManifestsSchema, manifests, label("manifests"));
  const t5 = performance.now();
  // The observer is told of a pause only after it: let the callbacks of this run's collections arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return {
    gcMs: gcMs - gcBefore,
    userMs: cpu.user / 1000,
    systemMs: cpu.system / 1000,
    times: { parse: t1 - t0, validate: t2 - t1, assemble: t3 - t2, serialize: t4 - t3, manifests: t5 - t4 },
    jsonBytes: Buffer.byteLength(json),
    requestBytes,
    // What the pre-flight check measures, computed its own way: it must agree with the body sent.
    checkedBytes: KojiClient.cgImportRequestBytes(json, event.koji.upload_directory, TOKEN),
    outputs: document.output.length,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

console.log(
  `bench:assembly ${new Date().toISOString()}, node ${process.version}, load (1/5/15 min) ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log(`fresh memory: ${freshMemoryMBps().toFixed(0)} MB/s (best of three 64 MiB zeroed allocations)`);
console.log(
  `compose: ${args.arches} image builds, ${args.rpms} payload + ${args["build-rpms"]} build-root RPMs and ${args.sboms} SBOMs each; bodies: status ${compose.bodies.status.length} B, logs ${mib(compose.bodies.logs.length)}, manifests ${mib(compose.bodies.manifests.length)}`,
);
for (let i = 0; i < Number(args.warmup); i++) await run();
const runs: Awaited<ReturnType<typeof run>>[] = [];
for (let i = 0; i < Number(args.runs); i++) runs.push(await run());
const last = runs.at(-1);
if (!last) throw new Error("no runs");

const stages = ["parse", "validate", "assemble", "serialize", "manifests"] as const;
const totals = runs.map((r) => r.times.parse + r.times.validate + r.times.assemble + r.times.serialize);
console.log(`${runs.length} runs after ${args.warmup} unmeasured; ms per run, median / max:`);
for (const stage of stages) {
  const values = runs.map((r) => r.times[stage]);
  const note = stage === "manifests" ? "  (parse + validate of the manifests; not in the total)" : "";
  console.log(
    `  ${stage.padEnd(10)} ${median(values).toFixed(1).padStart(7)} / ${Math.max(...values)
      .toFixed(1)
      .padStart(7)}${note}`,
  );
}
const gc = runs.map((r) => r.gcMs);
console.log(
  `  ${"(gc)".padEnd(10)} ${median(gc).toFixed(1).padStart(7)} / ${Math.max(...gc)
    .toFixed(1)
    .padStart(7)}  (garbage collection pauses within the run, all stages)`,
);
// The process's CPU time, all threads, from parse to serialize: the total less the waits for a core. System time is
// the kernel's, which here is mostly page faults: fresh memory handed to the process.
for (const [name, values] of [
  ["(user)", runs.map((r) => r.userMs)],
  ["(system)", runs.map((r) => r.systemMs)],
] as const)
  console.log(
    `  ${name.padEnd(10)} ${median(values).toFixed(1).padStart(7)} / ${Math.max(...values)
      .toFixed(1)
      .padStart(7)}  (CPU time of the process, all threads, parse to serialize)`,
  );
const medianTotal = median(totals);
const maxTotal = Math.max(...totals);
console.log(
  `  ${"total".padEnd(10)} ${medianTotal.toFixed(1).padStart(7)} / ${maxTotal.toFixed(1).padStart(7)}`,
);
const limit = maxMetadataBytes;
console.log(
  `CG document: ${last.outputs} outputs, ${mib(last.jsonBytes)} of JSON; CGImport request ${mib(last.requestBytes)} (${last.requestBytes} B) against KOJI_MAX_METADATA_BYTES ${mib(limit)} (${((100 * last.requestBytes) / limit).toFixed(0)}%)`,
);
if (last.checkedBytes !== last.requestBytes)
  throw new Error(`the pre-flight size ${last.checkedBytes} differs from the request's ${last.requestBytes}`);
const fits = last.requestBytes <= limit;
const met = medianTotal < TARGET_MS && maxTotal < TARGET_MS && fits;
console.log(
  `${met ? "PASS" : "MISS"} parse + validate + assemble + serialize median ${medianTotal.toFixed(1)} ms, max ${maxTotal.toFixed(1)} ms (target < ${TARGET_MS}); request ${mib(last.requestBytes)} ${fits ? "within" : "over"} the ${mib(limit)} limit`,
);
