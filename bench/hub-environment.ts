import { randomUUID } from "node:crypto";
import { createWriteStream, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import type { KojiHubConfig } from "../src/config/schema.js";
import { startFakeComposer } from "../test/fakes/composer/server.js";
import { uploadFile } from "../test/fakes/composer-worker/upload.js";
import { openUploadClient } from "../test/fakes/composer-worker/upload-client.js";
import { TASK_ID } from "../test/fakes/environment.js";
import type { LatencyModel, OutageKind } from "../test/fakes/koji/latency.js";
import { type FakeKojiHub, startFakeKojiHub } from "../test/fakes/koji/server.js";
import { STATE, type UploadDir, uploadDirKey } from "../test/fakes/koji/state.js";
import { artifactMd5, artifactStream } from "../test/fixtures/artifacts.js";
import { COMPOSES, loadCompose, uploadedFiles } from "../test/fixtures/composes.js";
import { realHubFromEnv } from "./realhub-config.js";

/**
 * The outside world of the hub benches (hub-bound, scale-out, drain), in a process of its own so that its CPU is
 * not the measured process's: the fake composer, and either the fake Koji hub or the real one (`--hub real`, see
 * realhub-config.ts). It acts as composer's worker too: each prepared compose is served by the fake composer with
 * its outputs uploaded to the hub, as composer leaves a finished compose.
 *
 * It prints one JSON line when ready ({kojiHubs, composerUrl}) and then answers JSON commands on stdin, one reply
 * line each ({id, ...}); hub-environment-client.ts is the other end:
 *   prepare {count, label, imageBytes?, withLogs?, seed?, file}  composes made and uploaded; events (and logs) to file
 *
 * `seed` puts a compose's outputs straight into the fake hub's work directory and upload table, where its upload
 * handler would have left them, instead of uploading them over HTTPS: the drain bench needs ten thousand composes
 * (80 000 files), which this shared machine uploads more slowly than the bench runs. What the importer then does
 * with them (checkUpload, CGImport) is the same either way. The real hub is always uploaded to, as composer does.
 *   latency {model}                            the fake hub's latency model from now on
 *   outage {outage}                            the fake hub down ("offline", "http503") or back (false)
 *   log                                        what the fake hub saw so far (see HubLog)
 */

/** What the fake hub saw, from its request log: calls that ran, requests refused while down, CGImports per compose. */
export interface HubLog {
  /** Calls that ran, by method (a multicall's calls each, the multicall too). */
  calls: Record<string, number>;
  /** Requests refused by the outage switch, by method. */
  refused: Record<string, number>;
  /** CGImport requests that ran, per upload directory (one directory per compose): how many, and any above one. */
  cgImports: { total: number; directories: number; repeated: string[] };
  completeBuilds: number;
  peaks: Record<string, number>;
}

const { values } = parseArgs({ options: { hub: { type: "string", default: "fake" } } });
const real = values.hub === "real" ? realHubFromEnv() : undefined;

const composer = await startFakeComposer();
let hub: FakeKojiHub | undefined;
let kojiHub: Extract<KojiHubConfig, { auth: "ssl" }>;
if (real) kojiHub = real.kojiHub;
else {
  hub = await startFakeKojiHub();
  hub.grant("osbuild");
  hub.addTask(TASK_ID);
  const cert = hub.clientCert("osbuild");
  kojiHub = {
    url: hub.url,
    auth: "ssl",
    cert_file: cert.certFile,
    key_file: cert.keyFile,
    ca_file: hub.pki.caFile,
  };
}
// composer's worker: it uploads with the same certificate the importer logs in with (the osbuild user).
const uploader = await openUploadClient(kojiHub, 600_000);

const RUN = Date.now().toString(36);

/** The sample compose with its first image made `imageBytes` long: composer reports its size and md5. */
const md5s = new Map<string, string>();
function bodies(imageBytes: number | undefined) {
  const fixture = loadCompose(COMPOSES.success);
  if (imageBytes === undefined) return fixture;
  type Target = { name: string; options: { image?: { filename: string; size: number; checksum: string } } };
  for (const build of fixture.logs.image_builds as Array<{ target_results?: Target[] }>) {
    const image = build.target_results?.find((t) => t.name === "org.osbuild.koji")?.options.image;
    if (!image) continue;
    const key = `${image.filename}:${imageBytes}`;
    if (!md5s.has(key)) md5s.set(key, artifactMd5(image.filename, imageBytes));
    image.size = imageBytes;
    image.checksum = md5s.get(key) as string;
    break;
  }
  return fixture;
}

/** The files in the fake hub's work directory and its upload table, owned by osbuild as if it had uploaded them. */
async function seed(fake: FakeKojiHub, directory: string, files: Array<{ filename: string; size: number }>) {
  const key = uploadDirKey(directory);
  const dir: UploadDir = { owner: fake.state.user("osbuild").id, files: new Map() };
  await mkdir(join(fake.state.workDir, key), { recursive: true });
  for (const file of files) {
    const path = join(fake.state.workDir, key, file.filename);
    await pipeline(artifactStream(file.filename, file.size), createWriteStream(path));
    dir.files.set(file.filename, { path, size: file.size, mtime: Date.now() / 1000, locked: false });
  }
  fake.state.uploads.set(key, dir);
}

async function prepareOne(label: string, index: number, imageBytes: number | undefined, seeded: boolean) {
  const composeId = randomUUID();
  const fixture = bodies(imageBytes);
  const directory = `osbuild-cg/osbuild-composer-koji-${composeId}`;
  const event = {
    ...fixture.event,
    compose_id: composeId,
    koji: {
      ...(fixture.event.koji as Record<string, unknown>),
      server: kojiHub.url,
      task_id: real?.taskId ?? TASK_ID,
      // Unique across runs too: the real hub keeps every build, and an NVR is imported once.
      release: `${label}.${RUN}.${index}`,
      upload_directory: directory,
    },
  };
  composer.addCompose(composeId, {
    status: fixture.status,
    logs: fixture.logs,
    manifests: fixture.manifests,
  });
  if (seeded && hub) {
    await seed(hub, directory, uploadedFiles(fixture.logs));
    return { event, logs: fixture.logs };
  }
  // One file after another: the real hub's first upload into a new directory writes the directory's owner file,
  // and a second upload into it meanwhile reads that file empty (ValueError: invalid literal for int()).
  for (const file of uploadedFiles(fixture.logs)) {
    await uploadFile(uploader.client, {
      directory,
      filename: file.filename,
      source: artifactStream(file.filename, file.size),
    });
  }
  return { event, logs: fixture.logs };
}

async function prepare(command: Extract<Command, { cmd: "prepare" }>) {
  const prepared: Array<{ event: unknown; logs?: unknown }> = new Array(command.count);
  // Small composes four at a time (the hub answers each upload at once); big ones one by one.
  const parallel = (command.imageBytes ?? 0) > 64 * 1024 * 1024 ? 1 : 4;
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < command.count; i = next++) {
        const { event, logs } = await prepareOne(command.label, i, command.imageBytes, command.seed === true);
        prepared[i] = command.withLogs ? { event, logs } : { event };
      }
    }),
  );
  writeFileSync(command.file, JSON.stringify(prepared));
  return { file: command.file, count: command.count };
}

// The request log, summed as it grows and then let go: ten thousand CGImports' documents would pile up otherwise.
const log: HubLog = {
  calls: {},
  refused: {},
  cgImports: { total: 0, directories: 0, repeated: [] },
  completeBuilds: 0,
  peaks: {},
};
const cgImportsByDirectory = new Map<string, number>();
function summarize(): HubLog {
  if (!hub) throw new Error("the real hub's requests are in its own logs");
  for (const request of hub.requests.splice(0)) {
    const method = request.method || "(unreadable)";
    if (request.outage) {
      log.refused[method] = (log.refused[method] ?? 0) + 1;
      continue;
    }
    if (method !== "CGImport") continue;
    const directory = String(request.params[1]);
    const count = (cgImportsByDirectory.get(directory) ?? 0) + 1;
    cgImportsByDirectory.set(directory, count);
    log.cgImports.total += 1;
    if (count === 2) log.cgImports.repeated.push(directory);
  }
  log.cgImports.directories = cgImportsByDirectory.size;
  log.calls = { ...hub.counters.calls };
  log.peaks = hub.latencyPeaks();
  log.completeBuilds = 0;
  for (const build of hub.state.builds.values()) if (build.state === STATE.COMPLETE) log.completeBuilds += 1;
  return log;
}
const trim = setInterval(() => hub && summarize(), 2000);

type Command =
  | {
      id: number;
      cmd: "prepare";
      count: number;
      label: string;
      imageBytes?: number;
      withLogs?: boolean;
      seed?: boolean;
      file: string;
    }
  | { id: number; cmd: "latency"; model: LatencyModel }
  | { id: number; cmd: "outage"; outage: OutageKind | false }
  | { id: number; cmd: "log" };

async function run(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case "prepare":
      return prepare(command);
    case "latency":
      if (hub)
        hub.settings.latency = { ...command.model, hubConcurrency: command.model.hubConcurrency ?? Infinity };
      return {};
    case "outage":
      if (hub) hub.settings.outage = command.outage;
      return {};
    case "log":
      return summarize();
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line) as Command;
  run(command).then(
    (reply) => console.log(JSON.stringify({ id: command.id, ...(reply as object) })),
    (error: unknown) => console.log(JSON.stringify({ id: command.id, error: String(error) })),
  );
});

console.log(JSON.stringify({ ready: true, kojiHubs: [kojiHub], composerUrl: composer.url }));

async function close() {
  clearInterval(trim);
  await uploader.close().catch(() => undefined);
  await composer.close();
  await hub?.close();
  process.exit(0);
}
process.once("SIGTERM", () => void close());
process.stdin.once("end", () => void close());
