import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminAmqp } from "../../src/admin/amqp.js";
import { type AccessSettings, bearerAuth } from "../../src/admin/auth.js";
import { buildAdminServer } from "../../src/admin/server.js";
import { loadConfig } from "../../src/config/load.js";
import { permanentError, toImporterError } from "../../src/errors.js";
import { createLogger, type Logger, logError } from "../../src/log.js";
import { createMetrics } from "../../src/metrics.js";
import { createPool, runMigrations } from "../../src/store/index.js";
import { VERSION } from "../../src/version.js";
import { createTestDatabase, type TestDatabase, testAmqpUrl } from "../support/servers.js";
import { createTestTopology, type TestTopology } from "../support/topology.js";

const TOKEN = "admin-token-for-access-tests-0123";
let database: TestDatabase;
let pool: pg.Pool;
let topology: TestTopology;
let amqp: AdminAmqp;
const servers: FastifyInstance[] = [];
const warnings: string[] = [];
process.on("warning", (warning: Error & { code?: string }) => warnings.push(warning.code ?? warning.message));

async function serve(settings: AccessSettings, logger: Logger = pino({ level: "silent" })): Promise<string> {
  const app = await buildAdminServer(
    {
      pool,
      amqp,
      names: topology.names,
      metrics: createMetrics(),
      auth: bearerAuth(TOKEN, settings),
      logger,
    },
    logger,
  );
  servers.push(app);
  return app.listen({ host: "127.0.0.1", port: 0 });
}

const status = async (base: string, path: string, token?: string) =>
  (await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})).status;

beforeAll(async () => {
  database = await createTestDatabase("access");
  await runMigrations(database.url);
  pool = createPool(database.url, 2);
  topology = await createTestTopology("access");
  amqp = new AdminAmqp(testAmqpUrl());
});

afterAll(async () => {
  for (const app of servers) await app.close();
  await amqp.close();
  await topology.remove();
  await pool.end();
  await database.drop();
});

describe("admin access", () => {
  it("keeps /healthz and /readyz open when read routes need the token, as Kubernetes probes send none", async () => {
    const base = await serve({ read: "token", metrics: "open" });
    expect(await status(base, "/healthz")).toBe(200);
    expect(await status(base, "/readyz")).toBe(200);
    expect(await status(base, "/v1/imports")).toBe(401);
    expect(await status(base, "/v1/imports", TOKEN)).toBe(200);
    // /metrics follows its own setting, not ADMIN_READ_AUTH
    expect(await status(base, "/metrics")).toBe(200);
  });

  it("asks for the token on /metrics alone when ADMIN_METRICS_AUTH=token", async () => {
    const base = await serve({ read: "open", metrics: "token" });
    expect(await status(base, "/metrics")).toBe(401);
    expect(await status(base, "/metrics", "wrong-token-wrong-token")).toBe(401);
    expect(await status(base, "/metrics", TOKEN)).toBe(200);
    expect(await status(base, "/v1/imports")).toBe(200);
    expect(await status(base, "/healthz")).toBe(200);
  });

  it("shows the version from package.json on /healthz and as build_info", async () => {
    const base = await serve({ read: "open", metrics: "open" });
    const health = await (await fetch(`${base}/healthz`)).json();
    const { version } = JSON.parse(
      await import("node:fs").then((fs) =>
        fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
      ),
    );
    expect(VERSION).toBe(version);
    expect(health).toEqual({ status: "ok", version });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`importer_build_info{version="${version}"} 1`);
  });

  it("refuses to start with a token-protected route and no ADMIN_TOKEN", () => {
    expect(() => loadConfig({ ADMIN_METRICS_AUTH: "token" })).toThrow(
      /ADMIN_TOKEN: required when ADMIN_METRICS_AUTH=token/,
    );
    expect(() => loadConfig({ ADMIN_READ_AUTH: "token" })).toThrow(
      /ADMIN_TOKEN: required when ADMIN_READ_AUTH=token/,
    );
    expect(loadConfig({ ADMIN_METRICS_AUTH: "token", ADMIN_TOKEN: TOKEN }).ADMIN_METRICS_AUTH).toBe("token");
  });
});

describe("admin request log", () => {
  it("logs one line per request without its query string, health and metrics only at debug, and no FSTDEP023", async () => {
    const lines: Array<Record<string, any>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const base = await serve({ read: "open", metrics: "open" }, createLogger("info", sink));
    await new Promise((resolve) => setImmediate(resolve));
    // fastify warns once per process: every server this file started counts
    expect(warnings).not.toContain("FSTDEP023");
    for (const path of ["/healthz", "/readyz", "/metrics"]) expect(await status(base, path)).toBe(200);
    expect(await status(base, "/v1/imports?token=secret-in-the-url-0123456789&limit=5")).toBe(200);
    const requests = lines.filter((l) => l.msg === "request completed");
    expect(requests.map((l) => [l.method, l.path, l.status])).toEqual([["GET", "/v1/imports", 200]]);
    expect(JSON.stringify(lines)).not.toContain("secret-in-the-url");
  });

  it("writes an expected rejection by its code, without a stack trace; an unexpected error with it", () => {
    const invalid = logError(permanentError("EVENT_INVALID", "event: compose_id: expected a UUID"));
    expect(invalid).toEqual({
      error: { code: "EVENT_INVALID", class: "permanent", message: "event: compose_id: expected a UUID" },
    });
    expect(JSON.stringify(invalid)).not.toContain("at ");
    const bug = new TypeError("x is undefined");
    expect(logError(toImporterError(bug))).toHaveProperty("err");
    expect(logError(bug)).toEqual({ err: bug });
  });
});
