import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type Config, loadConfig } from "../src/config/load.js";
import { BUILD_STATE_NAMES } from "../src/koji/schemas.js";
import { declareTopology, deleteTopology } from "../src/queue/topology.js";
import {
  isKojiEvent,
  type KojiComposeFinishedEvent as KojiEvent,
  parseComposeFinishedEvent,
} from "../src/schemas/event.js";
import { namesFromConfig } from "../src/service/admin.js";
import { type FakeEnvironment, startFakeEnvironment } from "../test/fakes/environment.js";
import { KojiHubs } from "../src/koji/hubs.js";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics.js";
import { EventPublisher } from "../src/queue/publisher.js";
import { ImportFinishedEventSchema } from "../src/schemas/event.js";
import { startWorker } from "../src/service/worker.js";
import { getImport } from "../src/store/get-import.js";
import { runMigrations } from "../src/store/migrate.js";
import { parseInput } from "../src/validation.js";

/**
 * `npm run demo`: the service's main job end to end on this machine. A development script, not part of the
 * package (it needs the fakes under test/, run by tsx). The fake composer and fake Koji hub run in this process
 * (test/fakes/environment.ts, which also plays composer's worker and uploads the outputs); the real worker runs
 * here against the local PostgreSQL and RabbitMQ, imports one compose, and the Koji build is printed with its
 * state, `extra` and archives. Each run has a database and exchange/queue names of its own, removed at the end,
 * so several runs on one machine do not meet.
 */
const RUN = `oki_demo_${process.pid}_${randomBytes(3).toString("hex")}`;

async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${RUN}`);
  const url = new URL(adminUrl);
  url.pathname = `/${RUN}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${RUN} WITH (FORCE)`) };
}

async function prepareEnvironment(): Promise<{ environment: FakeEnvironment; event: KojiEvent }> {
  const environment = await startFakeEnvironment();
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, "");
  const { composeId, event } = await environment.prepareCompose();
  // The NVR is in the event only (composer reserved nothing for this compose), so renaming it here is safe.
  event.koji.release = `${day}.${composeId.slice(0, 8)}`;
  const parsed = parseComposeFinishedEvent(event);
  if (!isKojiEvent(parsed)) throw new Error("the sample event has no koji section");
  return { environment, event: parsed };
}

async function main(): Promise<number> {
  const base = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? "warn");
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const database = await createDatabase(adminUrl);
  const cleanups: Array<() => Promise<unknown>> = [database.drop];
  try {
    await runMigrations(database.url);
    const { environment, event } = await prepareEnvironment();
    cleanups.unshift(() => environment.close());
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: database.url,
      KOJI_HUBS: JSON.stringify(environment.kojiHubs),
      COMPOSER_URL: environment.composer.url,
      COMPOSER_AUTH: "none",
      AMQP_URL: base.AMQP_URL,
      AMQP_EXCHANGE: `${RUN}.events`,
      AMQP_QUEUE: `${RUN}.compose-finished`,
      RETRY_DELAYS: "1s,2s",
      LOG_LEVEL: logger.level,
    });
    const publisher = await EventPublisher.open(config.AMQP_URL);
    // Declared here too (it is idempotent): the worker connects in the background, and an event published before
    // its queue exists would be dropped by the exchange.
    await declareTopology(publisher.channel, namesFromConfig(config));
    cleanups.unshift(async () => {
      // The worker declared them; this run's names go with it (the result queue is exclusive and goes by itself).
      await deleteTopology(publisher.channel, namesFromConfig(config)).catch(() => undefined);
      await publisher.close();
    });
    const worker = await startWorker(config, logger, createMetrics());
    cleanups.unshift(() => worker.stop());
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    cleanups.unshift(() => pool.end());
    const hubs = new KojiHubs({ hubs: config.kojiHubs });
    cleanups.unshift(() => hubs.close());
    return await importOne({ config, event, publisher, pool, hubs });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

async function importOne({
  config,
  event,
  publisher,
  pool,
  hubs,
}: {
  config: Config;
  event: KojiEvent;
  publisher: EventPublisher;
  pool: pg.Pool;
  hubs: KojiHubs;
}): Promise<number> {
  {
    const { compose_id: composeId, koji } = event;
    // Bound before the event goes out, as release tooling's queue would be: the result is published once.
    const results = await bindResultQueue(publisher, config.AMQP_EXCHANGE, config.AMQP_RESULT_ROUTING_KEY);
    console.log(
      `published compose-finished for compose ${composeId} (${koji.name}) to ${config.AMQP_EXCHANGE}`,
    );
    await publisher.publishJson(config.AMQP_EXCHANGE, config.AMQP_ROUTING_KEY, event);
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
      JSON.stringify(
        {
          id: build?.id,
          nvr: build?.nvr,
          // By name, as `koji buildinfo` shows it.
          state: build ? (BUILD_STATE_NAMES[build.state] ?? build.state) : undefined,
          extra: build?.extra,
        },
        null,
        2,
      ),
    );
    console.log("\nArchives:");
    for (const archive of archives) {
      console.log(
        `  ${archive.filename}  ${archive.type_name}  ${archive.size} bytes  btype=${archive.btype}`,
      );
    }
    printResult();
    return 0;
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
