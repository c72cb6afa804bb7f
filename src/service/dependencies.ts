import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Logger } from "../log.js";
import { pendingMigrations, runMigrations } from "../store/migrate.js";

/** The services the process needs before it can import; /readyz names each one that is missing. */
export type DependencyName = "amqp" | "database" | "migrations";
export type DependencyChecks = Record<DependencyName, string>;

export interface DependencyMonitorOptions {
  databaseUrl: string;
  /** "ok", or why the broker cannot be used. */
  amqp(): Promise<string>;
  /** Apply pending migrations as soon as the database answers (MIGRATE_ON_START). */
  migrate?: boolean;
  logger: Logger;
  /** Between checks while everything is there, and while something is missing. */
  intervalMs?: { ready: number; notReady: number };
}

/** Why `error` says the database cannot be used, without the URL (it may hold a password). */
function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return `unreachable: ${message || String(code ?? "error")}`;
}

/**
 * Watches PostgreSQL (answers, schema at the expected migration) and the broker, for /readyz and for the worker's
 * gate: the worker consumes only while the database is usable, so an outage or a wrong DATABASE_URL leaves events
 * waiting in the work queue instead of spending their attempts. Its checks run on a connection of its own (a pool of
 * one with short timeouts), so imports holding every pooled connection never make it report the database down.
 */
export class DependencyMonitor {
  private readonly pool: pg.Pool;
  private current: DependencyChecks = {
    amqp: "not checked yet",
    database: "not checked yet",
    migrations: "not checked yet",
  };
  private running: Promise<DependencyChecks> | undefined;
  private readonly listeners = new Set<(checks: DependencyChecks) => void>();
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;
  private migrated = false;

  constructor(private readonly options: DependencyMonitorOptions) {
    this.pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 1,
      connectionTimeoutMillis: 3000,
      query_timeout: 3000,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on("error", () => undefined);
  }

  get checks(): DependencyChecks {
    return this.current;
  }

  /** The database answers and its schema is current: imports can run. */
  get databaseReady(): boolean {
    return this.current.database === "ok" && this.current.migrations === "ok";
  }

  get ready(): boolean {
    return Object.values(this.current).every((value) => value === "ok");
  }

  /** Called with the checks whenever one of them changes. */
  onChange(listener: (checks: DependencyChecks) => void): void {
    this.listeners.add(listener);
  }

  /** Checks everything now (a check already running is shared) and returns the result. */
  refresh(): Promise<DependencyChecks> {
    this.running ??= this.checkAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Checks in the background until stop(): often while something is missing, rarely while all is well. */
  start(): void {
    const { ready, notReady } = this.options.intervalMs ?? { ready: 5000, notReady: 1000 };
    this.loop ??= (async () => {
      while (!this.stopped.signal.aborted) {
        await this.refresh();
        await sleep(this.ready ? ready : notReady, undefined, { signal: this.stopped.signal }).catch(
          () => undefined,
        );
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.loop;
    await this.running?.catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  private async checkAll(): Promise<DependencyChecks> {
    const [database, amqp] = await Promise.all([
      this.checkDatabase(),
      this.options.amqp().catch((error: unknown) => `unreachable: ${(error as Error).message}`),
    ]);
    const next: DependencyChecks = { amqp, ...database };
    const changed = (Object.keys(next) as DependencyName[]).filter(
      (name) => next[name] !== this.current[name],
    );
    this.current = next;
    if (changed.length > 0) {
      const missing = changed.filter((name) => next[name] !== "ok");
      if (missing.length > 0) this.options.logger.warn({ checks: next }, `not ready: ${missing.join(", ")}`);
      else this.options.logger.info({ checks: next }, `${changed.join(", ")} ok`);
      for (const listener of this.listeners) listener(next);
    }
    return next;
  }

  private async checkDatabase(): Promise<Pick<DependencyChecks, "database" | "migrations">> {
    let pending: string[];
    try {
      pending = await pendingMigrations(this.pool);
      if (pending.length > 0 && this.options.migrate && !this.migrated) {
        await runMigrations(this.options.databaseUrl, this.options.logger);
        this.migrated = true;
        pending = await pendingMigrations(this.pool);
      }
    } catch (error) {
      return { database: reason(error), migrations: "unknown" };
    }
    return { database: "ok", migrations: pending.length === 0 ? "ok" : `pending: ${pending.join(", ")}` };
  }
}
