import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

/**
 * How long the fake hub takes, as a real one does under load: a service time per method and a limit on how many
 * calls run at once, per method and for the whole hub (a hub behind Apache serves as many requests as it has
 * workers; the rest wait in the listen queue, first come first served). Off by default: every call answers at
 * once, as the tests expect. The benchmarks (bench/hub-bound.ts and its siblings) use it to make the hub the
 * limit, as it is in production, where CGImport takes seconds.
 */
export interface LatencyModel {
  /**
   * Milliseconds each call of a method spends on the hub before it runs, its concurrency slot held (the calls of
   * a multicall each, `system.multicall` itself for the whole request, `sslLogin` and `rawUpload` too).
   */
  serviceMs: Record<string, number>;
  /** At most this many calls of a method at once; the next wait in arrival order. */
  maxConcurrent: Record<string, number>;
  /** At most this many requests of any kind at once (the hub's Apache workers); the next wait in arrival order. */
  hubConcurrency: number;
}

/** Why the hub refuses every request: its front end has no hub behind it, or the hub has no database. */
export type OutageKind = "offline" | "http503";

export const noLatency = (): LatencyModel => ({
  serviceMs: {},
  maxConcurrent: {},
  hubConcurrency: Number.POSITIVE_INFINITY,
});

/** A FIFO semaphore whose limit is read at each entry, so a test may change it while the hub runs. */
export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** The most that ever ran at once. */
  peak = 0;

  constructor(private readonly limit: () => number) {}

  async enter(): Promise<() => void> {
    if (this.running >= this.limit() || this.waiting.length > 0)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    this.peak = Math.max(this.peak, this.running);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line: nobody can overtake it between release and wake-up.
      if (next) next();
      else this.running--;
    };
  }
}

/** The gates of one hub: one for the hub, one per limited method, made on first use. */
export class HubLatency {
  private readonly hub: Gate;
  private readonly byMethod = new Map<string, Gate>();

  /** `model` is read at every call, so the hub's settings may be changed or replaced while it runs. */
  constructor(private readonly model: () => LatencyModel) {
    this.hub = new Gate(() => this.model().hubConcurrency);
  }

  /** The whole request holds a hub slot until `release` (its response ended or its connection closed). */
  enterHub(): Promise<() => void> {
    return this.hub.enter();
  }

  /** Runs one call of `method`: waits for its slot, spends its service time, then runs it. */
  async call<T>(method: string, run: () => T | Promise<T>): Promise<T> {
    const model = this.model();
    const limited = model.maxConcurrent[method] !== undefined;
    const release = limited ? await this.gate(method).enter() : undefined;
    try {
      const ms = model.serviceMs[method] ?? 0;
      if (ms > 0) await sleep(ms);
      return await run();
    } finally {
      release?.();
    }
  }

  /** The most calls of each limited method, and requests (`hub`), that ran at once so far. */
  peaks(): Record<string, number> {
    const peaks: Record<string, number> = { hub: this.hub.peak };
    for (const [method, gate] of this.byMethod) peaks[method] = gate.peak;
    return peaks;
  }

  private gate(method: string): Gate {
    let gate = this.byMethod.get(method);
    if (!gate) {
      gate = new Gate(() => this.model().maxConcurrent[method] ?? Number.POSITIVE_INFINITY);
      this.byMethod.set(method, gate);
    }
    return gate;
  }
}

/** `CGImport=200,checkUpload=2`: method names and non-negative numbers. */
const MethodNumbers = z
  .string()
  .transform((text) => text.split(",").filter((part) => part.trim() !== ""))
  .pipe(
    z.array(
      z
        .string()
        .regex(/^\s*[\w.]+\s*=\s*\d+(\.\d+)?\s*$/, "expected METHOD=NUMBER")
        .transform((part) => {
          const [method, value] = part.split("=").map((s) => s.trim());
          return [method as string, Number(value)] as const;
        }),
    ),
  )
  .transform((pairs) => Object.fromEntries(pairs));

const Settings = z.object({
  serviceMs: MethodNumbers.optional(),
  maxConcurrent: MethodNumbers.optional(),
  hubConcurrency: z.coerce.number().int().positive().optional(),
  outage: z.enum(["offline", "http503"]).optional(),
});

/**
 * The model and outage from the fake's command line or environment (`--service-ms`, FAKE_KOJI_SERVICE_MS and so
 * on); absent settings keep the model's defaults. Throws on a malformed value, naming it.
 */
export function latencyFromSettings(input: {
  serviceMs?: string | undefined;
  maxConcurrent?: string | undefined;
  hubConcurrency?: string | undefined;
  outage?: string | undefined;
}): { latency: LatencyModel; outage: OutageKind | undefined } {
  const parsed = Settings.safeParse(
    Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== "")),
  );
  if (!parsed.success)
    throw new Error(
      `fake hub latency settings: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const model = noLatency();
  return {
    latency: {
      serviceMs: parsed.data.serviceMs ?? model.serviceMs,
      maxConcurrent: parsed.data.maxConcurrent ?? model.maxConcurrent,
      hubConcurrency: parsed.data.hubConcurrency ?? model.hubConcurrency,
    },
    outage: parsed.data.outage,
  };
}
