import { afterAll, beforeAll, expect, it } from "vitest";
import { replayDeadLetters } from "../../src/queue/dead-letters/replay.js";
import { namesFromConfig } from "../../src/service/admin.js";
import { runPrefix } from "../support/servers.js";
import { createHarness, type Harness } from "./harness.js";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("outage");
});

afterAll(async () => {
  await h.close();
});

it("a database that stays unreachable: retried up to the attempt limit, then dead-lettered as STORE_UNAVAILABLE; replayed once it is back, imported", async () => {
  const names = namesFromConfig(h.config);
  const { composeId, event } = await h.prepareCompose();
  // The worker's database is not there: every delivery fails before anything is recorded.
  const missing = new URL(h.database.url);
  missing.pathname = `/${runPrefix("gone").toLowerCase()}`;
  const cutOff = await h.startWorker({ DATABASE_URL: missing.toString(), MAX_ATTEMPTS: "3" });
  await h.publish(event);

  const dead = await h.nextDeadLetter();
  await cutOff.stop();
  // Put back for the replay below.
  h.admin.sendToQueue(names.deadLetterQueue, dead.content, { headers: dead.properties.headers });
  expect(dead.properties.headers).toMatchObject({
    "x-compose-id": composeId,
    "x-error-code": "STORE_UNAVAILABLE",
    "x-error-class": "retryable",
    "x-attempts": 3,
  });
  expect(String(dead.properties.headers?.["x-death-reason"])).toMatch(
    /^PostgreSQL unavailable: .*does not exist/,
  );

  // Once the database is back, `dlq replay` gives the event to a worker that reaches it.
  await h.startWorker();
  expect(await replayDeadLetters(h.confirmChannel, names, { composeIds: [composeId] })).toHaveLength(1);
  expect((await h.waitForState(composeId, ["imported", "failed", "refunded"])).state).toBe("imported");
});
