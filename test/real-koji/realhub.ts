import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import pg from "pg";
import { describe } from "vitest";
import type { KojiHubConfig } from "../../src/config/schema.js";

/**
 * The real Koji hub this suite runs against: koji's own hub code under Apache httpd + mod_ssl + mod_wsgi, as the
 * realhub toolkit brings it up (REALHUB_STATE, default /srv/realhub; REALHUB_PORT, default 18443, with Koji's
 * documented layout on the next port; REALHUB_PGPORT, default 5433, the hub's own PostgreSQL). Nothing here
 * reads the toolkit itself: only the state it leaves (PKI) and the ports it serves.
 */
export interface RealHub {
  state: string;
  /** Client certificate asked on every connection (SSLVerifyClient on the vhost). */
  url: string;
  /** Koji's documented layout: the certificate asked only under /kojihub/ssllogin (TLS 1.3 needs PHA there). */
  documentedUrl: string;
  /** The Kerberos vhost (up-kerberos.sh), REALHUB_PORT + 2; it may not be up. */
  kerberosUrl: string;
  caFile: string;
  /** The hub's database, for what the toolkit's make-task.sh does: a task row a CG build's task_id names. */
  databaseUrl: string;
  /** The importer's KOJI_HUBS entry for one layout, logging in as `user` (osbuild has the CG). */
  kojiHub(layout?: "vhost" | "documented", user?: string): KojiHubConfig;
  errorLog: string;
}

export type RealHubProbe = { hub: RealHub; reason?: undefined } | { hub?: undefined; reason: string };

function describeHub(): RealHub {
  const state = process.env.REALHUB_STATE ?? "/srv/realhub";
  const port = Number(process.env.REALHUB_PORT ?? "18443");
  const pgPort = Number(process.env.REALHUB_PGPORT ?? "5433");
  const pki = `${state}/pki`;
  return {
    state,
    url: `https://localhost:${port}/kojihub`,
    documentedUrl: `https://localhost:${port + 1}/kojihub`,
    kerberosUrl: `https://localhost:${port + 2}/kojihub`,
    caFile: `${pki}/ca.crt`,
    databaseUrl: `postgres://koji@127.0.0.1:${pgPort}/koji`,
    errorLog: `${state}/log/error.log`,
    kojiHub(layout = "vhost", user = "osbuild") {
      return {
        url: layout === "vhost" ? this.url : this.documentedUrl,
        auth: "ssl",
        cert_file: `${pki}/${user}.crt`,
        key_file: `${pki}/${user}.key`,
        ca_file: `${pki}/ca.crt`,
      };
    },
  };
}

/** getAPIVersion over the vhost layout with osbuild's certificate: does a hub answer at all? */
function askVersion(hub: RealHub): Promise<string | undefined> {
  const config = hub.kojiHub();
  const url = new URL(hub.url);
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        cert: readFileSync(config.auth === "ssl" ? config.cert_file : ""),
        key: readFileSync(config.auth === "ssl" ? config.key_file : ""),
        ca: readFileSync(hub.caFile),
        headers: { "Content-Type": "text/xml" },
        timeout: 5000,
      },
      (res) => {
        res.resume();
        const version = res.headers["koji-version"];
        resolve(res.statusCode === 200 && typeof version === "string" ? version : undefined);
      },
    );
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
    req.end("<?xml version='1.0'?><methodCall><methodName>getAPIVersion</methodName><params/></methodCall>");
  });
}

let probed: Promise<RealHubProbe> | undefined;

/** The real hub, or why there is none: the suite then reports itself skipped with that reason. */
export function probeRealHub(): Promise<RealHubProbe> {
  probed ??= (async (): Promise<RealHubProbe> => {
    const hub = describeHub();
    for (const file of [hub.caFile, `${hub.state}/pki/osbuild.crt`, `${hub.state}/pki/osbuild.key`]) {
      if (!existsSync(file)) return { reason: `no real Koji hub: ${file} does not exist (REALHUB_STATE)` };
    }
    if ((await askVersion(hub)) === undefined) {
      return { reason: `no real Koji hub answers getAPIVersion at ${hub.url} (REALHUB_PORT)` };
    }
    const db = new pg.Client({ connectionString: hub.databaseUrl, connectionTimeoutMillis: 5000 });
    try {
      await db.connect();
      await db.query("SELECT 1 FROM task LIMIT 1");
    } catch (error) {
      return {
        reason: `the real hub's database ${hub.databaseUrl} is out of reach (REALHUB_PGPORT): ${(error as Error).message}`,
      };
    } finally {
      await db.end().catch(() => undefined);
    }
    return { hub };
  })();
  return probed;
}

/**
 * A describe block that runs only against a real hub. Without one every test in it is reported skipped, the
 * title says why, and the reason is printed once: `npm run test:real-koji` exits 0 on a machine without a hub.
 * The body may only use `hub()` inside hooks and tests (vitest still collects a skipped block).
 */
export async function describeRealHub(title: string, body: (hub: () => RealHub) => void): Promise<void> {
  const probe = await probeRealHub();
  if (!probe.hub) console.warn(`[real-koji] skipped: ${probe.reason}`);
  const name = probe.hub ? title : `${title} (skipped: ${probe.reason})`;
  describe.skipIf(!probe.hub)(name, () =>
    body(() => {
      if (!probe.hub) throw new Error(probe.reason);
      return probe.hub;
    }),
  );
}

/** A row in the hub's task table, as the toolkit's make-task.sh makes one: a CG build's task_id must name a task. */
export async function ensureTask(hub: RealHub, taskId: number): Promise<void> {
  const db = new pg.Client({ connectionString: hub.databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO task (id, state, channel_id, owner, method, arch, label, request, priority)
       SELECT $1, 1, (SELECT id FROM channels WHERE name = 'default'), (SELECT id FROM users WHERE name = 'osbuild'),
              'osbuildImage', 'noarch', NULL,
              '<?xml version="1.0"?><methodCall><methodName>osbuildImage</methodName><params></params></methodCall>', 20
       WHERE NOT EXISTS (SELECT 1 FROM task WHERE id = $1)`,
      [taskId],
    );
  } finally {
    await db.end();
  }
}
