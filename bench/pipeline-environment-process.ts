import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface PipelineEnvironment {
  process: ChildProcess;
  /** KOJI_HUBS and COMPOSER_URL for the worker. */
  kojiHubs: string;
  composerUrl: string;
  /** The prepared composes' events, in order. */
  events: Array<{ compose_id: string }>;
}

/**
 * bench/pipeline-environment.ts (the ordinary fakes and `count` composes prepared as composer leaves them) in a
 * process of its own, so that /proc charges its CPU to it and not to the worker. BENCH_FAKES_NODE_ARGS passes node
 * flags to it (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--trace-gc"), as BENCH_WORKER_NODE_ARGS does to
 * the worker. The events travel through `eventsFile`, removed once read.
 */
export async function startPipelineEnvironment(
  count: number,
  eventsFile: string,
): Promise<PipelineEnvironment> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_FAKES_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      "bench/pipeline-environment.ts",
      String(count),
      eventsFile,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const ready = await new Promise<{ kojiHubs: string; composerUrl: string; eventsFile: string }>(
    (resolveReady, reject) => {
      child.once("exit", (code) => reject(new Error(`the fakes' process exited (${code})`)));
      createInterface({ input: child.stdout }).on(
        "line",
        (line) => line.startsWith("{") && resolveReady(JSON.parse(line)),
      );
    },
  );
  const events = JSON.parse(readFileSync(ready.eventsFile, "utf8")) as Array<{ compose_id: string }>;
  rmSync(ready.eventsFile);
  return { process: child, kojiHubs: ready.kojiHubs, composerUrl: ready.composerUrl, events };
}
