import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DownloadingComposerClient } from "../test/fakes/composer-worker/composer-client.js";

/**
 * Downloads a 200 MB and then a 2 GiB artifact from the fake composer (another process) through the real client,
 * and shows that the client streams: peak RSS during the 2 GiB download stays within 50 MB of the 200 MB one.
 * `npx tsx bench/composer-download.ts` — exits 1 if RSS grew more than that.
 */

const MiB = 1024 * 1024;
const SMALL = 200 * 1000 * 1000;
const LARGE = 2 * 1024 * MiB;
const WARM_UP = 16 * MiB;
const RSS_BUDGET = 50 * MiB;

const TSX = new URL("../node_modules/.bin/tsx", import.meta.url).pathname;
const SERVER = new URL("./composer-download-server.ts", import.meta.url).pathname;

const server = spawn(TSX, [SERVER, String(WARM_UP), String(SMALL), String(LARGE)], {
  stdio: ["ignore", "pipe", "inherit"],
});
const [line] = (await once(createInterface({ input: server.stdout }), "line")) as [string];
const { url, composes } = JSON.parse(line) as { url: string; composes: Record<string, string> };

const client = new DownloadingComposerClient({ url, auth: { mode: "none" } });

interface Run {
  bytes: number;
  seconds: number;
  peakRss: number;
}

/** Downloads one compose into a sink that only counts, sampling RSS every 10 ms. */
async function download(size: number): Promise<Run> {
  const id = composes[String(size)];
  if (!id) throw new Error(`no compose of ${size} bytes`);
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 10);
  const started = performance.now();
  let bytes = 0;
  const { body } = await client.downloadCompose(id);
  await pipeline(
    body,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  if (bytes !== size) throw new Error(`expected ${size} bytes, received ${bytes}`);
  return { bytes, seconds, peakRss };
}

function report(name: string, run: Run): void {
  const mbps = run.bytes / 1e6 / run.seconds;
  console.log(
    `${name.padEnd(8)} ${(run.bytes / MiB).toFixed(0).padStart(6)} MiB in ${run.seconds.toFixed(2).padStart(6)} s  ` +
      `${mbps.toFixed(0).padStart(5)} MB/s  peak RSS ${(run.peakRss / MiB).toFixed(1)} MiB`,
  );
}

try {
  await download(WARM_UP);
  console.log(
    `RSS after a ${WARM_UP / MiB} MiB warm-up download: ${(process.memoryUsage.rss() / MiB).toFixed(1)} MiB`,
  );
  const small = await download(SMALL);
  report("200 MB", small);
  const large = await download(LARGE);
  report("2 GiB", large);
  const growth = large.peakRss - small.peakRss;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(`process peak RSS (maxRSS) ${(maxRss / MiB).toFixed(1)} MiB`);
  console.log(
    `RSS growth 200 MB -> 2 GiB: ${(growth / MiB).toFixed(1)} MiB (budget ${RSS_BUDGET / MiB} MiB): ` +
      (growth <= RSS_BUDGET ? "ok" : "TOO MUCH"),
  );
  if (growth > RSS_BUDGET) process.exitCode = 1;
} finally {
  await client.close();
  server.kill("SIGTERM");
  await once(server, "exit");
}
