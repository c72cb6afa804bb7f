import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { namesFromConfig, startAdmin } from "../../src/service/admin.js";
import { runMigrations } from "../../src/store/index.js";
import { runPrefix } from "../support/servers.js";
import { createHarness, type Harness } from "./harness.js";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("outage");
});

afterAll(async () => {
  await h.close();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("a database that is not there, then not migrated: no delivery is taken, /readyz names it, and the worker starts by itself once it is fixed", async () => {
  const names = namesFromConfig(h.config);
  const { composeId, event } = await h.prepareCompose();
  // A DATABASE_URL naming a database that does not exist (yet): a mistyped deployment.
  const missing = new URL(h.database.url);
  const name = runPrefix("later").toLowerCase();
  missing.pathname = `/${name}`;
  const worker = await h.startWorker(
    { DATABASE_URL: missing.toString(), MAX_ATTEMPTS: "3" },
    { consuming: false },
  );
  const logger = pino({ level: "silent" });
  const admin = await startAdmin(
    loadConfig({ ...h.env, DATABASE_URL: missing.toString(), ADMIN_HOST: "127.0.0.1", ADMIN_PORT: "0" }),
    logger,
    h.metrics,
    { readiness: () => worker.monitor.refresh() },
  );
  const readyz = async () => {
    const response = await fetch(`${admin.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
  };
  const creator = new pg.Client({ connectionString: h.database.url });
  await creator.connect();
  try {
    await h.publish(event);
    // Connected to the broker, but consuming nothing: the event waits in the work queue, with no attempt spent.
    await waitFor("broker connected", async () => (worker.consumer.isConnected ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(worker.consumer.isConsuming).toBe(false);
    expect((await h.admin.checkQueue(names.workQueue)).messageCount).toBe(1);
    expect((await h.admin.checkQueue(names.deadLetterQueue)).messageCount).toBe(0);
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.checks.amqp).toBe("ok");
    expect(down.body.checks.database).toMatch(/^unreachable: .*does not exist/);

    // The database appears, empty: still not consuming, and /readyz names the migrations.
    await creator.query(`CREATE DATABASE ${name}`);
    const unmigrated = await waitFor("migrations named", async () => {
      const answer = await readyz();
      return answer.body.checks.database === "ok" ? answer : undefined;
    });
    expect(unmigrated.status).toBe(503);
    expect(unmigrated.body.checks.migrations).toMatch(/^pending: /);
    expect(worker.consumer.isConsuming).toBe(false);
    expect((await h.admin.checkQueue(names.workQueue)).messageCount).toBe(1);

    // Migrated: the worker takes the event by itself and imports it, at its first attempt.
    await runMigrations(missing.toString());
    await worker.consumer.whenConsuming();
    const other = new pg.Pool({ connectionString: missing.toString() });
    try {
      const row = await waitFor("imported", async () => {
        const result = await other.query("SELECT state, attempts FROM imports WHERE compose_id = $1", [
          composeId,
        ]);
        return result.rows[0]?.state === "imported" ? result.rows[0] : undefined;
      });
      expect(row.attempts).toBe(1);
    } finally {
      await other.end();
    }
    expect((await readyz()).status).toBe(200);
    expect((await h.admin.checkQueue(names.deadLetterQueue)).messageCount).toBe(0);
  } finally {
    await admin.stop();
    await worker.stop();
    await creator.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await creator.end();
  }
}, 60_000);
