import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./private-broker.js";

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (initdb, pg_ctl) on a free port with a temporary data directory, for a test
 * that stops and restarts the database under a running worker: doing that to the shared cluster would cut every
 * other test file's connections. Needs the PostgreSQL server binaries (`/usr/lib/postgresql/<version>/bin`, or
 * TEST_POSTGRES_BIN_DIR); where there are none, the test says so and skips. initdb refuses to run as root, so as
 * root the cluster belongs to the `postgres` user.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url(database?: string): string;
  /** `pg_ctl stop -m fast`: sessions are ended with 57P01, as on an administrator's restart. */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export function findPostgresBin(): string | undefined {
  const candidates = [process.env.TEST_POSTGRES_BIN_DIR];
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(root, version, "bin")));
  }
  return candidates.find(
    (dir): dir is string =>
      dir !== undefined && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")),
  );
}

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPrivatePostgres(bin: string): Promise<PrivatePostgres> {
  const base = mkdtempSync(join(tmpdir(), "oki-postgres-"));
  const data = join(base, "data");
  const port = await freePort();
  const owner = await postgresUser();
  if (owner) chownSync(base, owner.uid, owner.gid);
  const as = (command: string, args: string[]) =>
    owner
      ? run("runuser", ["-u", "postgres", "--", join(bin, command), ...args], { cwd: base })
      : run(join(bin, command), args, { cwd: base });
  await as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => as("pg_ctl", ["-D", data, "-o", options, "-l", join(base, "log"), "-w", "start"]);
  const stop = () => as("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  await start();
  let running = true;
  return {
    url: (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      if (running) await stop().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
