/**
 * Koji upload benchmark: a generated 1 GiB stream uploaded to the fake Koji hub (its own process) at chunk sizes of
 * 1, 8 and 32 MiB, by the importer (adler32 per chunk, whole-file md5, reply checks, final checkUpload) and by a
 * baseline that POSTs the same bytes in the same chunks on the same session with no checksums at all.
 *
 *   npx tsx bench/koji-upload.ts [--size-mib 1024] [--chunks-mib 1,8,32] [--rounds 3] [--hub fake|sink]
 *                                [--hub-url URL --cert FILE --key FILE --ca FILE]   (an already running hub)
 *
 * Each measurement runs in a fresh process on plain node (the measured code is compiled with the project's tsc
 * first): a tsx loader costs about 40 MB of RSS that production does not carry, and a fresh process gives each
 * configuration a peak RSS of its own. Rounds are interleaved and the median taken, because this machine's two
 * cores are shared with whatever else runs.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compileBenchScript } from "./compile-script.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WORK = join(ROOT, ".tmp", "koji-upload-bench");
const MIB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "1024" },
    "chunks-mib": { type: "string", default: "1,8,32" },
    rounds: { type: "string", default: "3" },
    /** fake: test/fakes/koji, a fresh one per measurement (the default); sink: bench/koji-upload-sink.ts. */
    hub: { type: "string" },
    "default-chunk-mib": { type: "string", default: "8" },
    "hub-url": { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
  },
});

interface Hub {
  url: string;
  cert: string;
  key: string;
  ca: string;
  stop(): Promise<void>;
}

interface Run {
  mode: "importer" | "baseline";
  chunkBytes: number;
  totalBytes: number;
  seconds: number;
  mbPerSecond: number;
  cpuSeconds: number;
  rssBefore: number;
  rssAtMark: number;
  rssAtEnd: number;
  peakRss: number;
  peakAfterMark: number;
}

const FAKE_HUB = "bench/koji-upload-fake-hub.ts";
const SINK_HUB = "bench/koji-upload-sink.ts";

/** A hub in a process of its own, on a free port; its banner gives the URL and the files to log in with. */
async function startHub(script: string): Promise<Hub> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child: ChildProcess = spawn(
    join(ROOT, "node_modules", ".bin", "tsx"),
    [script, "--port", String(port)],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let banner = "";
  const ready = await new Promise<Record<string, string>>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`fake hub did not start:\n${banner}`)), 60_000);
    child.once("exit", (code) => reject(new Error(`fake hub exited (${code}):\n${banner}`)));
    child.stdout?.on("data", (data: Buffer) => {
      banner += data.toString();
      const found = parseBanner(banner);
      if (found) {
        clearTimeout(timer);
        resolvePromise(found);
      }
    });
  });
  child.stdout?.resume();
  return {
    url: ready.url as string,
    cert: ready.cert as string,
    key: ready.key as string,
    ca: ready.ca as string,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}

/** Reads `url`, `ca`, `cert` and `key` from the fake hub's startup lines (`name: value`, one a line). */
function parseBanner(text: string): Record<string, string> | undefined {
  const found: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*(?:koji\s+)?(url|hub|ca|ca_file|cert|cert_file|key|key_file)\s*[:=]\s*(\S+)/i.exec(
      line,
    );
    if (!match) continue;
    const name = (match[1] as string).toLowerCase().replace("_file", "").replace("hub", "url");
    found[name] = match[2] as string;
  }
  return found.url && found.ca && found.cert && found.key ? found : undefined;
}

function measureOn(runner: string, hub: Hub, mode: Run["mode"], chunkBytes: number, totalBytes: number): Run {
  const output = execFileSync(
    process.execPath,
    [runner, mode, String(chunkBytes), String(totalBytes), hub.url, hub.cert, hub.key, hub.ca],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  return JSON.parse(output.trim().split("\n").at(-1) as string) as Run;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

async function main(): Promise<void> {
  const totalBytes = Number(args["size-mib"]) * MIB;
  const chunkSizes = (args["chunks-mib"] as string).split(",").map((c) => Number(c) * MIB);
  const rounds = Number(args.rounds);
  const defaultChunk = Number(args["default-chunk-mib"]) * MIB;
  const runner = compileBenchScript(WORK, "bench/koji-upload-run.ts");
  const given = args["hub-url"];
  const hubScript = args.hub === "sink" ? SINK_HUB : FAKE_HUB;
  const measure = async (mode: Run["mode"], chunkBytes: number): Promise<Run> => {
    if (given) {
      const hub = { url: given, cert: String(args.cert), key: String(args.key), ca: String(args.ca) };
      return measureOn(runner, { ...hub, stop: async () => {} }, mode, chunkBytes, totalBytes);
    }
    // A fresh hub each time, so every measurement starts from an empty upload directory.
    const hub = await startHub(hubScript);
    try {
      return measureOn(runner, hub, mode, chunkBytes, totalBytes);
    } finally {
      await hub.stop();
    }
  };
  console.log(`hub: ${given ?? hubScript}; ${mb(totalBytes)} MB per upload; ${rounds} rounds`);

  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const chunkBytes of chunkSizes) {
      for (const mode of ["importer", "baseline"] as const) {
        const run = await measure(mode, chunkBytes);
        runs.push(run);
        console.log(
          `  round ${round} ${mode.padEnd(8)} ${String(chunkBytes / MIB).padStart(2)} MiB: ` +
            `${run.mbPerSecond.toFixed(0)} MB/s, CPU ${run.cpuSeconds.toFixed(1)} s, peak RSS ${mb(run.peakRss)} MB`,
        );
      }
    }
  }

  const summary = chunkSizes.map((chunkBytes) => {
    const of = (mode: Run["mode"]) => runs.filter((r) => r.mode === mode && r.chunkBytes === chunkBytes);
    const importer = of("importer");
    const baseline = of("baseline");
    return {
      chunkBytes,
      importer: median(importer.map((r) => r.mbPerSecond)),
      baseline: median(baseline.map((r) => r.mbPerSecond)),
      importerCpu: median(importer.map((r) => (r.cpuSeconds * MIB * 1024) / r.totalBytes)),
      baselineCpu: median(baseline.map((r) => (r.cpuSeconds * MIB * 1024) / r.totalBytes)),
      peakRss: Math.max(...importer.map((r) => r.peakRss)),
      rssAtMark: Math.max(...importer.map((r) => r.rssAtMark)),
      rssAtEnd: Math.max(...importer.map((r) => r.rssAtEnd)),
      growth: Math.max(...importer.map((r) => r.peakAfterMark - r.rssAtMark)),
      baselinePeak: Math.max(...baseline.map((r) => r.peakRss)),
    };
  });

  console.log("\nmedian of rounds; RSS of the importer's process (worst round)");
  console.log(
    "chunk | importer MB/s | baseline MB/s | ratio | CPU s/GiB imp/base | peak RSS | RSS @100 MB | RSS @end | growth",
  );
  for (const s of summary) {
    console.log(
      `${String(s.chunkBytes / MIB).padStart(2)} MiB | ${s.importer.toFixed(0).padStart(12)} | ` +
        `${s.baseline.toFixed(0).padStart(13)} | ${(s.importer / s.baseline).toFixed(2).padStart(5)} | ` +
        `${s.importerCpu.toFixed(1).padStart(8)} / ${s.baselineCpu.toFixed(1).padEnd(7)} | ` +
        `${mb(s.peakRss).padStart(5)} MB | ${mb(s.rssAtMark).padStart(8)} MB | ${mb(s.rssAtEnd).padStart(5)} MB | ` +
        `${mb(s.growth).padStart(3)} MB`,
    );
  }

  const one = summary.find((s) => s.chunkBytes === MIB);
  const chosen = summary.find((s) => s.chunkBytes === defaultChunk);
  if (one && chosen) {
    const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
    const speedup = chosen.importer / one.importer;
    console.log(`\ntargets (default chunk ${defaultChunk / MIB} MiB):`);
    console.log(
      `  ${verdict(speedup >= 1.5)} default chunk vs 1 MiB: ${speedup.toFixed(2)}x (target >= 1.5x)`,
    );
    const ratio = chosen.importer / chosen.baseline;
    console.log(
      `  ${verdict(ratio >= 0.5)} importer vs no-checksum baseline: ${ratio.toFixed(2)} (target >= 0.5)`,
    );
    console.log(`  ${verdict(chosen.peakRss < 150e6)} peak RSS ${mb(chosen.peakRss)} MB (target < 150 MB)`);
    console.log(
      `  ${verdict(chosen.growth <= 30e6)} RSS growth 100 MB -> end: ${mb(chosen.growth)} MB (target <= 30 MB)`,
    );
  }
}

await main();
