import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namesFromConfig } from "../../src/service/admin.js";
import { freePort } from "../support/private-broker.js";
import { findPostgresBin, type PrivatePostgres, startPrivatePostgres } from "../support/private-postgres.js";
import { createHarness, type Harness } from "./harness.js";

/**
 * PostgreSQL restarted, then stopped for a while, under a running `start` process (worker and admin API) with
 * imports in flight: on a cluster of this file's own, so the shared one's other users are untouched. Where the
 * PostgreSQL server binaries are not installed the file skips; CI's machine has them.
 */
const bin = findPostgresBin();
const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
const TSX = new URL("../../node_modules/.bin/tsx", import.meta.url).pathname;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(bin === undefined)("PostgreSQL restarted and stopped under a running importer", () => {
  let postgres: PrivatePostgres;
  let h: Harness;
  let child: ChildProcess | undefined;
  const output: string[] = [];

  beforeAll(async () => {
    postgres = await startPrivatePostgres(bin as string);
    // Retries wait a minute: recovery must not depend on them.
    h = await createHarness(
      "pg_restart",
      { RETRY_DELAYS: "1m", AMQP_PREFETCH: "4" },
      { databaseAdminUrl: postgres.url() },
    );
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await h?.close();
    await postgres?.destroy();
  }, 60_000);

  it("the process never exits, /readyz names the database while it is down, and every compose is imported once, soon after it is back", async () => {
    const adminPort = await freePort();
    child = spawn(TSX, [CLI, "start"], {
      env: {
        ...process.env,
        ...h.env,
        LOG_LEVEL: "info",
        ADMIN_HOST: "127.0.0.1",
        ADMIN_PORT: String(adminPort),
        SHUTDOWN_TIMEOUT: "5s",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    const readyz = async () => {
      const response = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      return {
        status: response.status,
        checks: ((await response.json()) as { checks: Record<string, string> }).checks,
      };
    };
    try {
      await until("ready", async () => ((await readyz()).status === 200 ? true : undefined), 60_000);

      const composes = await Promise.all(Array.from({ length: 10 }, () => h.prepareCompose()));
      // composer answers slowly, so imports are in flight (each holding its lock's connection) when PostgreSQL goes.
      for (const { composeId } of composes)
        h.composer.injectFault(composeId, { kind: "slow", delayMs: 800, endpoint: "status", times: 3 });
      for (const { event } of composes) await h.publish(event);

      await new Promise((resolve) => setTimeout(resolve, 1200));
      await postgres.restart();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await postgres.stop();
      const down = await until(
        "/readyz names the database",
        async () => {
          const answer = await readyz();
          return answer.checks.database !== "ok" ? answer : undefined;
        },
        15_000,
      );
      expect(down.status).toBe(503);
      expect(down.checks.database).toMatch(/^unreachable/);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(child.exitCode).toBeNull();
      // Paused, not burning attempts: nothing was dead-lettered.
      expect((await h.admin.checkQueue(namesFromConfig(h.config).deadLetterQueue)).messageCount).toBe(0);

      await postgres.start();
      const back = Date.now();
      for (const { composeId } of composes) {
        const row = await h.waitForState(composeId, ["imported", "failed", "refunded"], 30_000);
        expect(row.state).toBe("imported");
      }
      // Within seconds of its return: no import waited for the one-minute retry queue.
      expect(Date.now() - back).toBeLessThan(25_000);
      expect(child.exitCode).toBeNull();
      expect((await readyz()).status).toBe(200);

      const builds = [...h.hub.state.builds.values()];
      expect(builds.filter((b) => b.state === 1)).toHaveLength(composes.length);
      expect(new Set(builds.map((b) => `${b.name}-${b.version}-${b.release}`)).size).toBe(builds.length);
      expect(h.hub.counters.calls.CGImport).toBe(composes.length);
      expect((await h.admin.checkQueue(namesFromConfig(h.config).deadLetterQueue)).messageCount).toBe(0);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } catch (error) {
      process.stderr.write(`start's output:\n${output.join("").split("\n").slice(-60).join("\n")}\n`);
      throw error;
    }
  }, 180_000);
});
