import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import type { KojiHubConfig } from "../src/config/schema.js";
import type { LatencyModel, OutageKind } from "../test/fakes/koji/latency.js";
import type { HubLog } from "./hub-environment.js";

/** A compose made ready by the environment: the event composer publishes and, when asked for, its logs. */
export interface PreparedCompose {
  event: { compose_id: string; koji: { upload_directory: string } } & Record<string, unknown>;
  logs?: Record<string, unknown>;
}

/** The bench's end of hub-environment.ts: starts it and sends it commands. */
export class HubEnvironment {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Record<string, unknown>) => void>();

  private constructor(
    readonly child: ChildProcess,
    readonly kojiHubs: KojiHubConfig[],
    readonly composerUrl: string,
  ) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const reply = JSON.parse(line) as { id?: number } & Record<string, unknown>;
      if (reply.id === undefined) return;
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  static async start(hub: "fake" | "real"): Promise<HubEnvironment> {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/hub-environment.ts", "--hub", hub], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const ready = await new Promise<{ kojiHubs: KojiHubConfig[]; composerUrl: string }>((resolve, reject) => {
      child.once("exit", (code) =>
        reject(new Error(`the bench environment exited (${code}) before it was ready`)),
      );
      const lines = createInterface({ input: child.stdout });
      lines.on("line", (line) => {
        if (!line.startsWith('{"ready"')) return;
        lines.close();
        resolve(JSON.parse(line));
      });
    });
    return new HubEnvironment(child, ready.kojiHubs, ready.composerUrl);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private send(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) =>
        reply.error ? reject(new Error(String(reply.error))) : resolve(reply),
      );
      this.child.stdin?.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  }

  /**
   * `count` composes, uploaded, their releases `<label>.<run>.<n>`; `imageBytes` sets the first image's size (default:
   * the sample's few KB); `withLogs` brings composer's logs along (the driver assembles the CG document from them);
   * `seed` puts the outputs into the fake hub's work directory directly instead of uploading them (see there).
   */
  async prepare(
    count: number,
    label: string,
    options: { imageBytes?: number | undefined; withLogs?: boolean; seed?: boolean } = {},
  ): Promise<PreparedCompose[]> {
    const file = `/tmp/oki-bench-${process.pid}-${label}.json`;
    await this.send({ cmd: "prepare", count, label, file, ...options });
    const prepared = JSON.parse(readFileSync(file, "utf8")) as PreparedCompose[];
    rmSync(file);
    return prepared;
  }

  async latency(model: LatencyModel): Promise<void> {
    await this.send({ cmd: "latency", model });
  }

  async outage(outage: OutageKind | false): Promise<void> {
    await this.send({ cmd: "outage", outage });
  }

  async log(): Promise<HubLog> {
    return (await this.send({ cmd: "log" })) as unknown as HubLog;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin?.end();
    this.child.kill("SIGTERM");
    await exited;
  }
}
