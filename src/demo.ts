import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { z } from "zod";
import { loadConfig } from "./config/load.js";
import { KojiHubs } from "./koji/hubs.js";
import { createLogger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { EventPublisher } from "./queue/publisher.js";
import { ImportFinishedEventSchema } from "./schemas/event.js";
import { startWorker } from "./service/worker.js";
import { getImport } from "./store/get-import.js";
import { runMigrations } from "./store/migrate.js";
import { parseInput } from "./validation.js";

/**
 * `npm run demo`: the service's main job end to end on this machine. The fake composer and fake Koji hub run in
 * a child process (test/fakes/demo-environment.ts, which also plays composer's worker and uploads the outputs);
 * the real worker runs here against the local PostgreSQL and RabbitMQ, imports one compose, and the Koji build
 * is printed with its `extra` and archives.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEMO_DATABASE = "osbuild_koji_importer_demo";

const EnvironmentSchema = z.object({
  kojiHubs: z.string(),
  composerUrl: z.string(),
  event: z
    .object({ compose_id: z.string(), koji: z.object({ server: z.string(), name: z.string() }).loose() })
    .loose(),
});

async function ensureDatabase(adminUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DEMO_DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DEMO_DATABASE}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${DEMO_DATABASE}`;
  return url.toString();
}

function startEnvironment(): Promise<{
  child: ChildProcess;
  environment: z.infer<typeof EnvironmentSchema>;
}> {
  const child = spawn(`${ROOT}node_modules/.bin/tsx`, [`${ROOT}test/fakes/demo-environment.ts`], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`demo environment exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      resolve({ child, environment: parseInput(EnvironmentSchema, JSON.parse(line), "demo environment") });
    });
  });
}

async function main(): Promise<number> {
  const base = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? "warn");
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const databaseUrl = await ensureDatabase(adminUrl);
  await runMigrations(databaseUrl);

  const { child, environment } = await startEnvironment();
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    KOJI_HUBS: environment.kojiHubs,
    COMPOSER_URL: environment.composerUrl,
    COMPOSER_AUTH: "none",
    AMQP_URL: base.AMQP_URL,
    AMQP_EXCHANGE: "osbuild-koji-importer.demo.events",
    AMQP_QUEUE: "osbuild-koji-importer.demo",
    RETRY_DELAYS: "1s,2s",
    LOG_LEVEL: logger.level,
  });
  const worker = await startWorker(config, logger, createMetrics());
  const publisher = await EventPublisher.open(config.AMQP_URL);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const hubs = new KojiHubs({ hubs: config.kojiHubs });
  try {
    const { compose_id: composeId, koji } = environment.event;
    // Bound before the event goes out, as release tooling's queue would be: the result is published once.
    const results = await bindResultQueue(publisher, config.AMQP_EXCHANGE, config.AMQP_RESULT_ROUTING_KEY);
    console.log(
      `published compose-finished for compose ${composeId} (${koji.name}) to ${config.AMQP_EXCHANGE}`,
    );
    await publisher.publishJson(config.AMQP_EXCHANGE, config.AMQP_ROUTING_KEY, environment.event);
    const deadline = Date.now() + 60_000;
    let row = await getImport(pool, composeId);
    while (!row || !["imported", "failed", "refunded"].includes(row.state)) {
      if (Date.now() > deadline)
        throw new Error(`import did not finish in time (state ${row?.state ?? "none"})`);
      await sleep(100);
      row = await getImport(pool, composeId);
    }
    console.log(`import ${composeId}: ${row.state}${row.last_error ? ` (${row.last_error})` : ""}`);
    const result = await results.next(15_000);
    const printResult = () => {
      console.log(
        `\nResult event received (routing key ${result.routingKey}, message_id ${result.messageId}):`,
      );
      console.log(JSON.stringify(result.event, null, 2));
    };
    if (row.state !== "imported" || row.koji_build_id === null) {
      printResult();
      return 1;
    }
    const koji2 = await hubs.client(koji.server);
    const build = await koji2.getBuild(row.koji_build_id);
    const archives = await koji2.listArchives({ buildID: row.koji_build_id });
    console.log("\nKoji build:");
    console.log(
      JSON.stringify({ id: build?.id, nvr: build?.nvr, state: build?.state, extra: build?.extra }, null, 2),
    );
    console.log("\nArchives:");
    for (const archive of archives) {
      console.log(
        `  ${archive.filename}  ${archive.type_name}  ${archive.size} bytes  btype=${archive.btype}`,
      );
    }
    printResult();
    return 0;
  } finally {
    await hubs.close();
    await publisher.close();
    await pool.end();
    await worker.stop();
    child.kill("SIGTERM");
  }
}

/** A queue of the demo's own bound to the result routing key, read with basic.get. */
async function bindResultQueue(publisher: EventPublisher, exchange: string, routingKey: string) {
  const channel = publisher.channel;
  await channel.assertExchange(exchange, "topic", { durable: true });
  const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, routingKey);
  return {
    async next(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (message) {
          return {
            routingKey: message.fields.routingKey,
            messageId: String(message.properties.messageId),
            event: parseInput(
              ImportFinishedEventSchema,
              JSON.parse(message.content.toString("utf8")),
              "result event",
            ),
          };
        }
        if (Date.now() > deadline) throw new Error(`no result event arrived within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
