import { pino } from "pino";
import type { Config } from "../src/config/load.js";
import { assembleCgMetadata, withBuildId } from "../src/core/assemble.js";
import { KojiHubs } from "../src/koji/hubs.js";
import { createMetrics } from "../src/metrics.js";
import type { CgMetadata } from "../src/schemas/cg-metadata.js";
import { ComposeLogsSchema } from "../src/schemas/composer.js";
import { isKojiEvent, type KojiEventInfo, parseComposeFinishedEvent } from "../src/schemas/event.js";
import { metricsObserver } from "../src/telemetry/calls.js";
import type { PreparedCompose } from "./hub-environment-client.js";

export interface DriverCompose {
  composeId: string;
  document: CgMetadata;
  koji: KojiEventInfo;
}

/**
 * The hub's limit, measured: exactly the hub calls that the worker makes for a first-attempt import with no
 * composer reservation (src/pipeline/steps: CGInitBuild in reserve, the checkUpload multicall in check-uploads,
 * CGImport in import; getArchiveTypes once, as the worker's ArchiveTypeCache asks it, in `warmUp`), with the
 * project's Koji client set up as the worker sets it up (KojiHubs: its hub sessions, connections and timeouts)
 * and as many imports at once as the worker takes deliveries (AMQP_PREFETCH). No RabbitMQ, PostgreSQL or
 * composer: what the service does beyond this is what the hub-bound ratio measures.
 */
export class HubDriver {
  private readonly hubs: KojiHubs;

  constructor(private readonly config: Config) {
    this.hubs = new KojiHubs({
      hubs: config.kojiHubs,
      cgName: config.KOJI_CG_NAME,
      timeoutMs: config.KOJI_TIMEOUT,
      logger: pino({ level: "silent" }),
      observer: metricsObserver(createMetrics()),
    });
  }

  /** The CG documents, assembled before the clock starts (the worker's assemble step; not a hub call). */
  static documents(composes: PreparedCompose[]): DriverCompose[] {
    return composes.map(({ event: raw, logs }) => {
      const event = parseComposeFinishedEvent(raw);
      if (!isKojiEvent(event) || !logs) throw new Error("the driver needs Koji events with composer's logs");
      const document = assembleCgMetadata({ event, logs: ComposeLogsSchema.parse(logs) });
      return { composeId: event.compose_id, document, koji: event.koji };
    });
  }

  /** Logins and the archive types, as a fresh worker's first imports do them. */
  async warmUp(): Promise<void> {
    for (const hub of this.config.kojiHubs) await (await this.hubs.client(hub.url)).getArchiveTypes();
  }

  /** Imports every compose, AMQP_PREFETCH at once; the wall time, and each failure's message. */
  async run(
    composes: DriverCompose[],
  ): Promise<{ seconds: number; failures: string[]; meanMs: Record<string, number> }> {
    const failures: string[] = [];
    this.spent = { CGInitBuild: 0, checkUploads: 0, CGImport: 0 };
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: this.config.AMQP_PREFETCH }, async () => {
        for (let i = next++; i < composes.length; i = next++) {
          const compose = composes[i] as DriverCompose;
          await this.importOne(compose).catch((error: unknown) =>
            failures.push(`${compose.composeId}: ${error}`),
          );
        }
      }),
    );
    const meanMs = Object.fromEntries(
      Object.entries(this.spent).map(([call, ms]) => [call, ms / Math.max(1, composes.length)]),
    );
    return { seconds: (performance.now() - started) / 1000, failures, meanMs };
  }

  /** Milliseconds spent in each call, summed over a run (a call's wait in the hub's queue included). */
  private spent: Record<string, number> = {};

  private async timed<T>(call: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      this.spent[call] = (this.spent[call] ?? 0) + performance.now() - started;
    }
  }

  private async importOne({ document, koji: info }: DriverCompose) {
    const koji = await this.hubs.client(info.server);
    const reservation = await this.timed("CGInitBuild", () =>
      koji.CGInitBuild({ name: info.name, version: info.version, release: info.release }),
    );
    const found = await this.timed("checkUploads", () =>
      koji.checkUploads(
        info.upload_directory,
        document.output.map((output) => output.filename),
      ),
    );
    document.output.forEach((output, index) => {
      if (found[index]?.size !== output.filesize) throw new Error(`${output.filename} is not uploaded whole`);
    });
    const json = JSON.stringify(withBuildId(document, reservation.build_id));
    const build = await this.timed("CGImport", () =>
      koji.CGImport(json, info.upload_directory, reservation.token, {
        timeoutMs: this.config.KOJI_IMPORT_TIMEOUT,
      }),
    );
    if (build.state !== 1) throw new Error(`build ${build.id} is in state ${build.state} after CGImport`);
  }

  close(): Promise<void> {
    return this.hubs.close();
  }
}
