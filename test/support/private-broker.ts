import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A RabbitMQ node of the test's own, on free ports with its own data directory, for a test that stops and
 * starts the broker (`rabbitmqctl stop_app` / `start_app`): doing that to the shared broker would cut every other
 * test file's connections. Needs the RabbitMQ server installed (CI's machine has it); a machine with only Docker
 * has none, and the test that needs it says so and skips.
 */
export interface PrivateBroker {
  url: string;
  nodeName: string;
  stopApp(): Promise<void>;
  startApp(): Promise<void>;
  stop(): Promise<void>;
}

/** The RabbitMQ scripts that run as the calling user (Debian's wrapper in /usr/sbin would switch to `rabbitmq`). */
export function findRabbitmqBin(): string | undefined {
  const candidates = [
    process.env.TEST_RABBITMQ_BIN_DIR,
    "/usr/lib/rabbitmq/bin",
    ...(process.env.PATH ?? "").split(delimiter),
  ];
  return candidates.find(
    (dir): dir is string =>
      dir !== undefined &&
      dir !== "" &&
      existsSync(join(dir, "rabbitmq-server")) &&
      existsSync(join(dir, "rabbitmqctl")),
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitForPort(port: number, open: boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > end) throw new Error(`private RabbitMQ node: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function startPrivateBroker(bin: string): Promise<PrivateBroker> {
  const base = mkdtempSync(join(tmpdir(), "oki-rabbitmq-"));
  const [amqpPort, distPort] = [await freePort(), await freePort()];
  const nodeName = `oki_${process.pid}@localhost`;
  mkdirSync(join(base, "log"));
  writeFileSync(join(base, "enabled_plugins"), "[].\n");
  // Empty env file and a config of our own: the machine's /etc/rabbitmq files name the shared node's port.
  writeFileSync(join(base, "rabbitmq-env.conf"), "");
  writeFileSync(join(base, "rabbitmq.conf"), `listeners.tcp.default = 127.0.0.1:${amqpPort}\n`);
  const env = {
    ...process.env,
    HOME: base,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONF_ENV_FILE: join(base, "rabbitmq-env.conf"),
    RABBITMQ_CONFIG_FILE: join(base, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(base, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(base, "mnesia"),
    RABBITMQ_LOG_BASE: join(base, "log"),
    RABBITMQ_PID_FILE: join(base, "pid"),
  };
  const server: ChildProcess = spawn(join(bin, "rabbitmq-server"), [], {
    env,
    cwd: base,
    stdio: "ignore",
  });
  const ctl = (command: string) =>
    run(join(bin, "rabbitmqctl"), ["-n", nodeName, command], { env, cwd: base });
  const cleanup = () => rmSync(base, { recursive: true, force: true });
  try {
    await waitForPort(amqpPort, true, 60_000, `port ${amqpPort} not open (logs in ${base}/log)`);
  } catch (error) {
    server.kill("SIGKILL");
    throw error;
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    nodeName,
    async stopApp() {
      await ctl("stop_app");
      await waitForPort(amqpPort, false, 30_000, "still listening after stop_app");
    },
    async startApp() {
      await ctl("start_app");
      await waitForPort(amqpPort, true, 60_000, "not listening after start_app");
    },
    async stop() {
      await ctl("stop").catch(() => server.kill("SIGKILL"));
      if (server.exitCode === null) await new Promise((resolve) => server.once("exit", resolve));
      cleanup();
    },
  };
}
