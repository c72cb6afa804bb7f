import type amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayDeadLetters } from "../../src/queue/dead-letters/replay.js";
import { namesFromConfig } from "../../src/service/admin.js";
import { getImport } from "../../src/store/index.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { seenStateChanges } from "../support/state-changes.js";
import { createHarness, type Harness } from "./harness.js";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("faults");
  await h.startWorker();
  await h.startWorker();
});

afterAll(async () => {
  await h.close();
});

const calls = (method: string) => h.hub.counters.calls[method] ?? 0;

const names = () => namesFromConfig(h.config);

async function consumed(outcome: string): Promise<number> {
  const { values } = await h.metrics.eventsConsumed.get();
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

async function until(done: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`not done after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A compose reserved by composer's koji-init job on the fake hub, the reservation named in its logs. */
async function composerReserved() {
  const { composeId, event } = await h.prepareCompose(COMPOSES.reserved);
  const reservation = h.hub.state.newBuild(h.hub.state.user("osbuild"), "osbuild", event.koji, 0);
  reservation.token = `reservation-token-${reservation.id}`;
  const bodies = loadCompose(COMPOSES.reserved);
  const init = { build_id: reservation.id, token: reservation.token };
  const logs = { ...bodies.logs, koji: { ...(bodies.logs.koji as object), init } };
  h.composer.addCompose(composeId, { status: bodies.status, logs, manifests: bodies.manifests });
  return { composeId, event };
}

const REJECTION = { faultCode: 1000, faultString: "Build (42) NVR is different" };

/**
 * A compose whose CGImport the hub rejects for good (once), published and run until its import is final.
 * `alsoInject` adds faults for the same run (a refund's, say).
 */
async function rejectedImport(
  prepare: () => Promise<{ composeId: string; event: Record<string, any> }> = () => h.prepareCompose(),
  alsoInject: () => void = () => undefined,
) {
  const { composeId, event } = await prepare();
  h.hub.inject.importFailure(REJECTION);
  alsoInject();
  await h.publish(event);
  const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
  return { composeId, event, row };
}

/** Takes every dead letter now in the queue. */
async function takeDeadLetters(): Promise<amqp.GetMessage[]> {
  const found: amqp.GetMessage[] = [];
  const queue = names().deadLetterQueue;
  for (let m = await h.admin.get(queue, { noAck: true }); m; m = await h.admin.get(queue, { noAck: true }))
    found.push(m);
  return found;
}

/**
 * Waits until the dead-letter queue holds `count` messages. The worker commits a failure before it publishes the
 * dead letter, so the row's final state can be seen a moment before its dead letter is.
 */
async function waitForDeadLetters(count: number): Promise<void> {
  await until(async () => (await h.admin.checkQueue(names().deadLetterQueue)).messageCount >= count);
}

describe("duplicates", () => {
  it("the same event 5 times, to 2 workers at once, makes exactly one build and one CGImport", async () => {
    const { composeId, event } = await h.prepareCompose();
    const imports = calls("CGImport");
    const inits = calls("CGInitBuild");
    await Promise.all(Array.from({ length: 5 }, () => h.publish(event)));
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    expect(row.state).toBe("imported");
    // Let every duplicate (some retried while the first worker held the lock) come through.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls("CGImport") - imports).toBe(1);
    expect(calls("CGInitBuild") - inits).toBe(1);
    const builds = [...h.hub.state.builds.values()].filter((b) => b.release === event.koji.release);
    expect(builds.map((b) => b.state)).toEqual([1]);
    const queue = await h.admin.checkQueue(names().workQueue);
    expect(queue.messageCount).toBe(0);
  });
});

describe("faults that a retry cures", () => {
  it("composer answering 500 for a while", async () => {
    const { composeId, event } = await h.prepareCompose();
    h.composer.injectFault(composeId, { kind: "status", status: 500, times: 3 });
    await h.publish(event);
    expect((await h.waitForState(composeId, ["imported", "failed", "refunded"])).state).toBe("imported");
  });

  it("Koji's LockError from CGImport, and an expired session", async () => {
    const { composeId, event } = await h.prepareCompose();
    h.hub.inject.importFailure({
      faultCode: 1001,
      faultString: "[Errno 11] Resource temporarily unavailable",
    });
    h.hub.inject.authExpiredOnce();
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    expect(row.state).toBe("imported");
    const log = await h.pool.query(
      "SELECT step, outcome, error_code FROM import_attempts WHERE compose_id = $1 ORDER BY id",
      [composeId],
    );
    expect(log.rows).toContainEqual({ step: "import", outcome: "retryable", error_code: "KOJI_FAULT" });
  });

  it("uploads that a hub replica does not show yet ('Corrupted upload?')", async () => {
    const { composeId, event } = await h.prepareCompose();
    h.hub.inject.hiddenUploads(3);
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    expect(row.state).toBe("imported");
  });

  it("a CGImport whose reply was lost: Koji is asked, and the build recorded without importing again", async () => {
    const { composeId, event } = await h.prepareCompose();
    h.hub.inject.importFailure("reply-lost");
    const imports = calls("CGImport");
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    expect(row.state).toBe("imported");
    expect(calls("CGImport") - imports).toBe(1);
    expect(h.hub.state.builds.get(row.koji_build_id as number)?.state).toBe(1);
  });

  it("an import row deleted after its event was recorded: retried as STORE_ROW_VANISHED, recorded anew", async () => {
    const { composeId, event } = await h.prepareCompose();
    // The row goes just as the attempt starts (its first `attempts` update), once: an operator's DELETE
    // between the recording of the event and the worker's lock, made to happen every time.
    await h.pool.query(`CREATE TABLE vanished (compose_id text PRIMARY KEY);
      CREATE FUNCTION vanish_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.compose_id = '${composeId}' AND NOT EXISTS (SELECT 1 FROM vanished) THEN
          INSERT INTO vanished VALUES (OLD.compose_id);
          DELETE FROM imports WHERE compose_id = OLD.compose_id;
          RETURN NULL;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER vanish_once BEFORE UPDATE OF attempts ON imports FOR EACH ROW EXECUTE FUNCTION vanish_once();`);
    try {
      await h.publish(event);
      const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
      expect(row.state).toBe("imported");
      expect((await h.pool.query("SELECT compose_id FROM vanished")).rows).toEqual([
        { compose_id: composeId },
      ]);
      const { values } = await h.metrics.retries.get();
      expect(values.find((v) => v.labels.code === "STORE_ROW_VANISHED")?.value).toBe(1);
    } finally {
      await h.pool.query(
        `DROP TRIGGER vanish_once ON imports; DROP FUNCTION vanish_once(); DROP TABLE vanished`,
      );
    }
  });
});

describe("failures that no retry cures", () => {
  it("a permanent Koji rejection is dead-lettered with the hub's message and the reservation refunded", async () => {
    await takeDeadLetters();
    const { composeId, event, row } = await rejectedImport();
    expect(row).toMatchObject({ state: "refunded", last_error_code: "KOJI_FAULT" });
    expect(row.last_error).toContain("Build (42) NVR is different");
    const build = [...h.hub.state.builds.values()].find((b) => b.release === event.koji.release);
    expect(build?.state).toBe(3);
    await waitForDeadLetters(1);
    const dead = await takeDeadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.properties.headers).toMatchObject({
      "x-compose-id": composeId,
      "x-error-class": "permanent",
    });
    expect(String(dead[0]?.properties.headers?.["x-death-reason"])).toContain("Build (42) NVR is different");
  });

  it("an event for an import that already failed is dead-lettered again; a replayed dead letter imports it", async () => {
    await takeDeadLetters();
    const { composeId, event, row: failed } = await rejectedImport();
    expect(failed.state).toBe("refunded");
    await waitForDeadLetters(1);

    // What a worker killed between committing the failure and dead-lettering would have left to its successor:
    // the event once more, for an import recorded as failed. It must not be acked away as "already finished".
    await h.publish(event);
    await waitForDeadLetters(2);
    const again = await getImport(h.pool, composeId);
    expect(again).toMatchObject({
      state: "refunded",
      attempts: failed.attempts,
      last_error: failed.last_error,
    });

    // An SRE replays one dead letter after the fix: the import runs again and Koji's refunded build is reused.
    const imports = calls("CGImport");
    const moved = await replayDeadLetters(h.confirmChannel, names(), { composeIds: [composeId], limit: 1 });
    expect(moved).toHaveLength(1);
    const row = await h.waitForState(composeId, ["imported"]);
    expect(calls("CGImport") - imports).toBe(1);
    const builds = [...h.hub.state.builds.values()].filter((b) => b.release === event.koji.release);
    expect(builds.map((b) => [b.id, b.state])).toEqual([[row.koji_build_id, 1]]);

    // The other copy, replayed too, finds the import done and is acked with no Koji call.
    const duplicates = await consumed("duplicate");
    await replayDeadLetters(h.confirmChannel, names(), { composeIds: [composeId] });
    await until(async () => (await consumed("duplicate")) > duplicates);
    expect(calls("CGImport") - imports).toBe(1);
    expect((await h.admin.checkQueue(names().deadLetterQueue)).messageCount).toBe(0);
  });

  it("an operator's retry whose commit was lost after the broker took it: the worker reopens the import", async () => {
    const { composeId, event, row } = await rejectedImport();
    expect(row.state).toBe("refunded");
    await waitForDeadLetters(1);
    await takeDeadLetters();
    // The event as `retry` publishes it, while the row still says refunded (the admin's commit never landed).
    h.admin.sendToQueue(names().workQueue, Buffer.from(JSON.stringify(event)), {
      contentType: "application/json",
      headers: { "x-operator-retry": true },
    });
    expect((await h.waitForState(composeId, ["imported"])).state).toBe("imported");
  });

  it("a refund whose reply was lost: Koji shows the build given back, so the import ends refunded and dead-lettered", async () => {
    await takeDeadLetters();
    const { event, row } = await rejectedImport(undefined, () =>
      h.hub.inject.callFailure("CGRefundBuild", "reply-lost"),
    );
    expect(row).toMatchObject({ state: "refunded", last_error_code: "KOJI_FAULT" });
    expect(row.last_error).toContain("Build (42) NVR is different");
    const builds = [...h.hub.state.builds.values()].filter((b) => b.release === event.koji.release);
    expect(builds.map((b) => b.state)).toEqual([3]);
    await waitForDeadLetters(1);
    const [dead] = await takeDeadLetters();
    expect(String(dead?.properties.headers?.["x-death-reason"])).toContain("Build (42) NVR is different");
  });

  it("a refund Koji refuses while the build is still BUILDING: failed and dead-lettered with both reasons, not retried forever", async () => {
    await takeDeadLetters();
    const refunds = calls("CGRefundBuild");
    const { composeId, event, row } = await rejectedImport(undefined, () =>
      h.hub.inject.callFailure("CGRefundBuild", { faultCode: 1000, faultString: "refunds are off today" }),
    );
    expect(row).toMatchObject({ state: "failed", last_error_code: "KOJI_FAULT" });
    expect(row.last_error).toContain("Build (42) NVR is different");
    expect(row.last_error).toContain("refunds are off today");
    await waitForDeadLetters(1);
    const [dead] = await takeDeadLetters();
    expect(String(dead?.properties.headers?.["x-death-reason"])).toContain("could not be refunded");
    expect(calls("CGRefundBuild") - refunds).toBe(1);
    const builds = () => [...h.hub.state.builds.values()].filter((b) => b.release === event.koji.release);
    expect(builds().map((b) => b.state)).toEqual([0]);

    // Left to a person, as the dead letter says; a replay after the fix cancels that build and imports anew.
    h.admin.sendToQueue(names().deadLetterQueue, dead?.content ?? Buffer.alloc(0), {
      headers: dead?.properties.headers,
    });
    await replayDeadLetters(h.confirmChannel, names(), { composeIds: [composeId] });
    const row2 = await h.waitForState(composeId, ["imported"]);
    expect(builds().map((b) => [b.id, b.state])).toEqual([[row2.koji_build_id, 1]]);
  });

  it("an import left failed although Koji has its reservation COMPLETE: a replay, or a retry, records it imported", async () => {
    // What the importer used to leave after a worker was killed inside a slow CGImport: Koji holds the one
    // COMPLETE build of the reservation, the import is failed (a second CGImport and the refund were refused).
    await takeDeadLetters();
    for (const source of ["importer", "composer"] as const) {
      const { composeId, event } =
        source === "composer" ? await composerReserved() : await h.prepareCompose();
      await h.publish(event);
      const imported = await h.waitForState(composeId, ["imported"]);
      await h.pool.query(
        `UPDATE imports SET state = 'failed', imported_at = NULL, koji_token = NULL, last_error_class = 'permanent',
           last_error_code = 'KOJI_NVR_CONFLICT', last_error = 'Koji already has build that this import did not make',
           koji_build_id = CASE WHEN $2 THEN NULL ELSE koji_build_id END
         WHERE compose_id = $1`,
        [composeId, source === "composer"],
      );
      const before = {
        imports: calls("CGImport"),
        inits: calls("CGInitBuild"),
        refunds: calls("CGRefundBuild"),
      };
      if (source === "importer") {
        h.admin.sendToQueue(names().deadLetterQueue, Buffer.from(JSON.stringify(event)), {
          headers: { "x-compose-id": composeId },
        });
        await waitForDeadLetters(1);
        await replayDeadLetters(h.confirmChannel, names(), { composeIds: [composeId] });
      } else {
        await h.pool.query(
          `UPDATE imports SET state = 'received', koji_build_id = NULL, koji_token = NULL, reservation_source = NULL,
             import_started_at = NULL WHERE compose_id = $1`,
          [composeId],
        );
        h.admin.sendToQueue(names().workQueue, Buffer.from(JSON.stringify(event)), {
          contentType: "application/json",
          headers: { "x-operator-retry": true },
        });
      }
      const row = await h.waitForState(composeId, ["imported"]);
      expect(row, `reservation by ${source}`).toMatchObject({
        koji_build_id: imported.koji_build_id,
        last_error: null,
      });
      expect([calls("CGImport"), calls("CGInitBuild"), calls("CGRefundBuild")]).toEqual([
        before.imports,
        before.inits,
        before.refunds,
      ]);
    }
    expect((await h.admin.checkQueue(names().deadLetterQueue)).messageCount).toBe(0);
  });

  it("a refunded import that used composer's reservation reserves anew when replayed", async () => {
    await takeDeadLetters();
    const { composeId, event } = await h.prepareCompose(COMPOSES.reserved);
    const reservation = h.hub.state.newBuild(h.hub.state.user("osbuild"), "osbuild", event.koji, 0);
    reservation.token = `reservation-token-${reservation.id}`;
    const bodies = loadCompose(COMPOSES.reserved);
    const init = { build_id: reservation.id, token: reservation.token };
    const logs = { ...bodies.logs, koji: { ...(bodies.logs.koji as object), init } };
    h.composer.addCompose(composeId, { status: bodies.status, logs, manifests: bodies.manifests });
    h.hub.inject.importFailure({ faultCode: 1000, faultString: "Build (42) NVR is different" });
    await h.publish(event);
    expect((await h.waitForState(composeId, ["imported", "failed", "refunded"])).state).toBe("refunded");
    expect(reservation.state).toBe(3);
    await waitForDeadLetters(1);

    // Composer's reservation is spent: the replay must not import with its token, but reserve the NVR again.
    await replayDeadLetters(h.confirmChannel, names(), { composeIds: [composeId] });
    const row = await h.waitForState(composeId, ["imported"], 5_000);
    expect(row).toMatchObject({ reservation_source: "importer", last_error: null });
    expect(h.hub.state.builds.get(row.koji_build_id as number)?.state).toBe(1);
  });

  it("outputs that never arrive fail, after the wait, naming the file and the directory", async () => {
    const { composeId, event } = await h.prepareCompose(undefined, { upload: false });
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"], 20_000);
    expect(row).toMatchObject({ state: "refunded", last_error_code: "KOJI_UPLOAD_MISSING" });
    expect(row.last_error).toContain(`missing from upload directory ${event.koji.upload_directory}`);
  });
});

it("took the state machine's ways out of every fault (and, as h.close() checks, none outside it)", async () => {
  const seen = (await seenStateChanges(h.pool)).map((s) => `${s.from ?? "(new)"} → ${s.to}`);
  expect(seen).toEqual(
    expect.arrayContaining([
      "assembled → imported",
      "reserved → refunded",
      "uploaded → imported",
      "uploaded → failed",
      "uploaded → refunded",
      "failed → received",
      "refunded → received",
    ]),
  );
});
