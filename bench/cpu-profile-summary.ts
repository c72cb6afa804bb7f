import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/**
 * Where a process spent its CPU, as text, from either profile the overhead bench can take of the worker:
 * - a V8 .cpuprofile (`--cpu-prof`, what `node --cpu-prof` writes). V8 samples the main thread on a timer
 *   whether or not the OS runs it, so on a busy machine a function that makes the kernel wake another process
 *   (a socket write to PostgreSQL) is charged the time the worker then waits for a core: a wall-clock profile.
 * - `perf script` text of a `perf record -e cpu-clock -g` profile (`--perf`, JIT names from `perf inject
 *   --jit`): the kernel samples only while the process is on a core, so it is CPU time, native code included.
 * Tables: self time by module (a package under node_modules, a file of this project, node's internals, native
 * code), self time by function, the same with native and builtin frames charged to the nearest JavaScript
 * function on the stack ("by caller": the IC misses, allocation and GC a function causes are its cost), and the
 * time inside each of this project's functions with their callees ("total").
 *
 *   npx tsx bench/cpu-profile-summary.ts FILE.cpuprofile|FILE.txt [--top 30] [--per N] [--focus TEXT]
 *   (FILE.txt from: perf script -F period,ip,sym,dso -i FILE.perf > FILE.txt)
 *
 * --per N divides every figure by N (the imports the profile covers) to give milliseconds per import.
 * --focus TEXT lists only functions whose module or name contains TEXT, by total time.
 * Idle time (V8's "(idle)", the process waiting) is left out: percentages are shares of the CPU used.
 */

interface Frame {
  functionName: string;
  url: string;
  line: number;
}
interface Sample {
  us: number;
  /** Leaf first. */
  stack: Frame[];
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "30" },
    per: { type: "string", default: "1" },
    focus: { type: "string" },
  },
});
const file = positionals[0];
if (!file) {
  console.error(
    "usage: cpu-profile-summary FILE.cpuprofile|perf-script.txt [--top 30] [--per N] [--focus TEXT]",
  );
  process.exit(2);
}
const TOP = Number(args.top);
const PER = Number(args.per);

function fromCpuProfile(text: string): Sample[] {
  const profile = JSON.parse(text) as {
    nodes: Array<{
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      children?: number[];
    }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  return profile.samples.map((id, i) => {
    const stack: Frame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame && frame.functionName !== "(root)")
        stack.push({ functionName: frame.functionName, url: frame.url, line: frame.lineNumber + 1 });
    }
    // timeDeltas[i] is the time from the previous sample to this one: the time this sample stands for.
    return { us: profile.timeDeltas[i] ?? 0, stack };
  });
}

/** `JS:*name file:///x.js:12:3`, `Builtin:Name`, or a native symbol; the dso in parentheses at the end. */
function perfFrame(line: string): Frame {
  const match = line.trim().match(/^[0-9a-f]+ (.*) \((.*)\)$/);
  const symbol = match?.[1] ?? line.trim();
  const dso = match?.[2] ?? "";
  const js = symbol.match(/^(?:JS|Eval|Function|LazyCompile):[*~^+-]?(\S*) ?(.*?)(?::(\d+):\d+)?$/);
  if (js?.[2]) return { functionName: js[1] ?? "", url: js[2], line: Number(js[3] ?? 0) };
  if (dso.includes("kernel") || symbol.startsWith("[k]") || dso === "[unknown]")
    return { functionName: symbol, url: "", line: 0 };
  const library = dso.split("/").pop() ?? dso;
  return { functionName: `${symbol} [${library.startsWith("jitted-") ? "v8" : library}]`, url: "", line: 0 };
}

function fromPerfScript(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    const header = lines[0];
    if (!header) continue;
    // The period of a cpu-clock sample is in nanoseconds.
    const us = Number(header.trim().split(/\s+/).pop()) / 1000;
    samples.push({ us, stack: lines.slice(1).map(perfFrame) });
  }
  return samples;
}

/** A module for a frame: the npm package, the project file, node's own code, or native code. */
function moduleOf(frame: Frame): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName.startsWith("(")) return functionName;
    const library = functionName.match(/\[([^\]]+)\]$/)?.[1];
    return library ? `(native ${library})` : "(kernel)";
  }
  if (url.startsWith("node:")) return "node:internal";
  const inModules = url.lastIndexOf("/node_modules/");
  if (inModules >= 0) {
    const [scope, name] = url.slice(inModules + "/node_modules/".length).split("/");
    return scope?.startsWith("@") ? `${scope}/${name}` : (scope ?? url);
  }
  const project = url.match(/\/(src|bench|test)\/(.*)$/);
  return project ? `${project[1]}/${project[2]}` : url;
}

const isJs = (frame: Frame) => frame.url !== "" && !frame.url.startsWith("wasm");
const functionOf = (frame: Frame) =>
  isJs(frame)
    ? `${frame.functionName || "(anonymous)"} ${moduleOf(frame)}:${frame.line}`
    : frame.functionName;

const text = readFileSync(file, "utf8");
const samples = text.trimStart().startsWith("{") ? fromCpuProfile(text) : fromPerfScript(text);

const selfByFunction = new Map<string, number>();
const selfByModule = new Map<string, number>();
const byCaller = new Map<string, number>();
const callerModule = new Map<string, number>();
const totalByFunction = new Map<string, number>();
const moduleOfFunction = new Map<string, string>();
let used = 0;
let idle = 0;
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);

for (const { us, stack } of samples) {
  const leaf = stack[0];
  if (!leaf) continue;
  if (leaf.functionName === "(idle)") {
    idle += us;
    continue;
  }
  used += us;
  add(selfByFunction, functionOf(leaf), us);
  add(selfByModule, moduleOf(leaf), us);
  const caller = stack.find(isJs);
  add(byCaller, caller ? functionOf(caller) : `(no JavaScript on the stack) ${functionOf(leaf)}`, us);
  add(callerModule, caller ? moduleOf(caller) : "(no JavaScript on the stack)", us);
  // Total: each function once per sample, however often it recurs in the stack.
  const seen = new Set<string>();
  for (const frame of stack) {
    const key = functionOf(frame);
    if (seen.has(key)) continue;
    seen.add(key);
    moduleOfFunction.set(key, moduleOf(frame));
    add(totalByFunction, key, us);
  }
}

const ms = (us: number) => (us / 1000 / PER).toFixed(PER === 1 ? 0 : 3).padStart(9);
const share = (us: number) => `${((100 * us) / used).toFixed(1).padStart(5)}%`;
const unit = PER === 1 ? "ms" : "ms per import";
const table = (title: string, map: Map<string, number>, rows = TOP) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows))
    console.log(`${ms(us)} ${share(us)}  ${key}`);
};

console.log(
  `${file}: CPU used ${ms(used).trim()} ${unit}${PER === 1 ? "" : ` (${(used / 1000).toFixed(0)} ms over ${PER})`}, idle ${(idle / 1000).toFixed(0)} ms, ${samples.length} samples`,
);
if (args.focus) {
  const focus = args.focus;
  const focused = new Map(
    [...totalByFunction].filter(
      ([key]) => key.includes(focus) || (moduleOfFunction.get(key) ?? "").includes(focus),
    ),
  );
  table(`total (self + callees) ${unit}, functions matching "${focus}"`, focused);
} else {
  table(`self ${unit} by module`, selfByModule, 25);
  table(`self ${unit} by function`, selfByFunction);
  table(`${unit} by module of the nearest JavaScript caller`, callerModule, 40);
  table(`${unit} by nearest JavaScript caller`, byCaller);
  const project = new Map(
    [...totalByFunction].filter(([key]) => (moduleOfFunction.get(key) ?? "").startsWith("src/")),
  );
  table(`total (self + callees) ${unit}, this project's functions`, project, 45);
}
