import { type ChildProcess, spawn } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { namesFromConfig } from "../../src/service/admin.js";
import { createHarness, type Harness } from "../pipeline/harness.js";
import { closedPort } from "../support/closed-port.js";
import { testAmqpUrl } from "../support/servers.js";

const ROOT = new URL("../../", import.meta.url).pathname;
let h: Harness;

beforeAll(async () => {
  h = await createHarness("lifecycle");
}, 60_000);

afterAll(async () => {
  await h.close();
}, 60_000);

interface Running {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  lines: string[];
  /** Resolves with the first log line whose msg matches. */
  logged(msg: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** A real process of the CLI (node itself with tsx as a loader, so signals reach it as they would in a pod). */
function runCli(command: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ["--import", "tsx", `${ROOT}src/cli.ts`, command], {
    cwd: ROOT,
    env: { ...process.env, ...h.env, LOG_LEVEL: "info", ADMIN_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: Array<{ msg: RegExp; resolve: (line: Record<string, unknown>) => void }> = [];
  let rest = "";
  const take = (chunk: Buffer) => {
    rest += chunk.toString();
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const waiter of waiters.splice(0)) {
        if (waiter.msg.test(String(parsed.msg))) waiter.resolve(parsed);
        else waiters.push(waiter);
      }
    }
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    exited,
    lines,
    logged(msg, timeoutMs = 60_000) {
      const seen = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return undefined;
        }
      });
      const found = seen.find((line) => line && msg.test(String(line.msg)));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ msg, resolve });
        setTimeout(
          () => reject(new Error(`no log line ${msg} within ${timeoutMs} ms:\n${lines.join("\n")}`)),
          timeoutMs,
        ).unref();
      });
    },
    async stop() {
      const sent = Date.now();
      child.kill("SIGTERM");
      const { code, at } = await exited;
      return { code, ms: at - sent };
    },
  };
}

async function get(port: number, path: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A TCP port that refuses connections until open(), then forwards them to the shared broker: a broker "returning". */
async function lateBroker(): Promise<{ url: string; open(): Promise<void>; close(): Promise<void> }> {
  const port = await closedPort();
  const target = new URL(testAmqpUrl());
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    url: `amqp://${target.username}:${target.password}@127.0.0.1:${port}`,
    async open() {
      server = createServer((client) => {
        const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5672) });
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("error", () => undefined);
          socket.on("close", () => sockets.delete(socket));
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server) await new Promise((resolve) => server?.close(resolve));
    },
  };
}

describe("start-up", () => {
  it("start without its broker: the admin API answers at once, /readyz names amqp, and a SIGTERM then exits 0 with a log line", async () => {
    const port = await closedPort();
    const app = runCli("start", {
      ADMIN_PORT: String(port),
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${await closedPort()}`,
    });
    await app.logged(/admin HTTP listening/);
    expect((await get(port, "/healthz")).status).toBe(200);
    const ready = await until("/readyz names amqp", async () => {
      const answer = await get(port, "/readyz");
      return answer.body.checks.database === "ok" ? answer : undefined;
    });
    expect(ready.status).toBe(503);
    expect(ready.body.checks.amqp).not.toBe("ok");
    expect(ready.body.checks.migrations).toBe("ok");
    const { code } = await app.stop();
    expect(code).toBe(0);
    await app.logged(/shutting down/, 1000);
    await app.logged(/^stopped$/, 1000);
  }, 90_000);

  it("consumes within seconds of the broker's arrival, however long it was away", async () => {
    const broker = await lateBroker();
    const port = await closedPort();
    const app = runCli("start", { ADMIN_PORT: String(port), AMQP_URL: broker.url });
    try {
      await app.logged(/admin HTTP listening/);
      const { composeId, event } = await h.prepareCompose();
      await h.publish(event);
      // Long enough for an uncapped backoff to have grown past ten seconds.
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      expect((await get(port, "/readyz")).body.checks.amqp).not.toBe("ok");
      await broker.open();
      const opened = Date.now();
      // The reconnect backoff is capped at 2 s: consuming starts within that and a connection of its return.
      const consuming = await app.logged(/^consuming$/, 30_000);
      expect(Number(consuming.time) - opened).toBeLessThan(4000);
      await h.waitForState(composeId, ["imported"], 30_000);
      expect((await get(port, "/readyz")).status).toBe(200);
      expect((await app.stop()).code).toBe(0);
    } finally {
      if (app.child.exitCode === null) app.child.kill("SIGKILL");
      await broker.close();
    }
  }, 120_000);
});

describe("stop", () => {
  it("an idle worker exits 0 within a second of SIGTERM", async () => {
    const app = runCli("worker", {});
    await app.logged(/^consuming$/);
    const { code, ms } = await app.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
  }, 90_000);

  it("busy: takes no more deliveries, lets the running step finish, and gives the event back for another worker", async () => {
    const app = runCli("worker", { SHUTDOWN_TIMEOUT: "20s", AMQP_PREFETCH: "1" });
    await app.logged(/^consuming$/);
    const [slow, queued] = await Promise.all([h.prepareCompose(), h.prepareCompose()]);
    // The fetch step takes 3 s: the stop comes in the middle of it.
    h.composer.injectFault(slow.composeId, { kind: "slow", delayMs: 3000, endpoint: "status" });
    await h.publish(slow.event);
    // The stop must find the fetch running: the row alone ("received") can be there before the step starts, and a
    // worker stopped between steps rightly runs none (slow under load, this made the test fail at times).
    await vi.waitFor(() => expect(h.composer.counters.calls(slow.composeId, "status")).toBeGreaterThan(0), {
      timeout: 10_000,
      interval: 20,
    });
    await h.publish(queued.event);
    const { code, ms } = await app.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(8000);
    // The step that ran finished and committed; the next did not start; the second event was never taken.
    expect((await h.waitForState(slow.composeId, ["fetched"], 1000)).state).toBe("fetched");
    const names = namesFromConfig(h.config);
    expect((await h.admin.checkQueue(names.workQueue)).messageCount).toBe(2);
    const worker = await h.startWorker();
    for (const { composeId } of [slow, queued]) await h.waitForState(composeId, ["imported"]);
    await worker.stop();
  }, 90_000);

  it("busy past SHUTDOWN_TIMEOUT: the slow composer call is abandoned, the process exits, and the import resumes elsewhere", async () => {
    const app = runCli("worker", { SHUTDOWN_TIMEOUT: "1s" });
    await app.logged(/^consuming$/);
    const stuck = await h.prepareCompose();
    h.composer.injectFault(stuck.composeId, { kind: "slow", delayMs: 60_000, endpoint: "status" });
    await h.publish(stuck.event);
    await h.waitForState(stuck.composeId, ["received"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { code, ms } = await app.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5000);
    await app.logged(/shutdown timeout/, 1000);
    const worker = await h.startWorker();
    await h.waitForState(stuck.composeId, ["imported"]);
    await worker.stop();
  }, 90_000);
});
