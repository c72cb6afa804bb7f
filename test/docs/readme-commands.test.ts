import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventPublisher } from "../../src/queue/index.js";
import { parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { createPool, recordEvent, runMigrations } from "../../src/store/index.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { runCli } from "../support/built-cli.js";
import { createTestDatabase, type TestDatabase, testAmqpUrl } from "../support/servers.js";
import { createTestTopology, type TestTopology } from "../support/topology.js";

/** Every `osbuild-koji-importer ...` command the README writes out, in its order; synopses (`<command>`) aside. */
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const COMMANDS = [
  ...[...readme.matchAll(/`(osbuild-koji-importer [^`]*)`/g)].map((m) => m[1] as string),
  ...readme.split("\n").filter((line) => line.startsWith("osbuild-koji-importer ")),
].filter((command) => !command.includes("<"));

let database: TestDatabase;
let pool: pg.Pool;
let topology: TestTopology;
let env: Record<string, string>;
const placeholders: Record<string, string> = {};

/** A fixture event under a compose id (and so an NVR) of its own. */
function freshEvent(id: string) {
  const fixture = loadCompose(COMPOSES.success);
  const koji = { ...(fixture.event.koji as Record<string, unknown>), release: `1.${id.slice(0, 8)}` };
  return { ...fixture.event, compose_id: id, koji };
}

beforeAll(async () => {
  database = await createTestDatabase("readme");
  await runMigrations(database.url);
  pool = createPool(database.url, 2);
  topology = await createTestTopology("readme");
  const { names } = topology;
  env = {
    DATABASE_URL: database.url,
    AMQP_URL: testAmqpUrl(),
    AMQP_EXCHANGE: names.exchange,
    AMQP_QUEUE: names.workQueue,
    RETRY_DELAYS: "1s",
  };
  // X: a failed import with its dead letter; a poison letter beside it; E.json: an event to publish by hand.
  const failed = randomUUID();
  await recordEvent(pool, parseComposeFinishedEvent(freshEvent(failed)));
  await pool.query(
    "UPDATE imports SET state = 'failed', last_error = 'no', last_error_code = 'KOJI_FAULT' WHERE compose_id = $1",
    [failed],
  );
  const publisher = await EventPublisher.open(testAmqpUrl());
  await publisher.publishJson(names.deadLetterExchange, "", freshEvent(failed), {
    "x-compose-id": failed,
    "x-error-code": "KOJI_FAULT",
  });
  await publisher.publishRaw(names.deadLetterExchange, "", Buffer.from("not json"), {
    "x-error-code": "EVENT_NOT_JSON",
  });
  await publisher.close();
  const eventFile = join(mkdtempSync(join(tmpdir(), "oki-readme-")), "E.json");
  writeFileSync(eventFile, JSON.stringify(freshEvent(randomUUID())));
  placeholders.X = failed;
  placeholders["E.json"] = eventFile;
});

afterAll(async () => {
  await topology.remove();
  await pool.end();
  await database.drop();
});

describe("the README's commands", () => {
  it("lists the SRE commands, publish and the assemble example", () => {
    for (const command of [
      "status X",
      "dlq replay --code",
      "publish --event E.json",
      "assemble --event test/",
    ]) {
      expect(COMMANDS.some((c) => c.includes(command))).toBe(true);
    }
  });

  it("each runs as written (placeholders filled in) and exits 0", async () => {
    for (const command of COMMANDS) {
      const args = command
        .split(/\s+/)
        .slice(1)
        .map((arg) => placeholders[arg] ?? arg);
      const answer = await runCli(args, env);
      expect({ command, code: answer.code, stderr: answer.stderr.trim() }).toMatchObject({
        command,
        code: 0,
      });
    }
  }, 300_000);

  it("publish puts a validated event on the work queue, and refuses a bad event or one no queue takes", async () => {
    const { names, channel } = topology;
    await channel.purgeQueue(names.workQueue);
    const dir = mkdtempSync(join(tmpdir(), "oki-publish-"));
    const id = randomUUID();
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify(freshEvent(id)));
    const sent = await runCli(["publish", "--event", good, "--json"], env);
    expect(sent.code).toBe(0);
    const answer = JSON.parse(sent.stdout);
    expect(answer).toMatchObject({ compose_id: id, exchange: names.exchange });
    const message = await channel.get(names.workQueue, { noAck: true });
    if (message === false) throw new Error("the published event is not in the work queue");
    expect(JSON.parse(message.content.toString()).compose_id).toBe(id);
    expect(message.properties.messageId).toBe(answer.message_id);

    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...freshEvent(id), compose_id: "nope" }));
    const refused = await runCli(["publish", "--event", bad], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("invalid compose_id");
    const unrouted = await runCli(["publish", "--event", good], {
      ...env,
      AMQP_ROUTING_KEY: "nobody.listens",
    });
    expect(unrouted.code).toBe(1);
    expect(unrouted.stderr).toContain("no queue is bound");
    expect((await channel.checkQueue(names.workQueue)).messageCount).toBe(0);
  }, 120_000);
});
