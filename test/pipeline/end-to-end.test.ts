import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assembleCgMetadata, withBuildId } from "../../src/core/assemble.js";
import { ComposeLogsSchema } from "../../src/schemas/composer.js";
import { type KojiComposeFinishedEvent, parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { createHarness, type Harness } from "./harness.js";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("e2e");
  await h.startWorker();
});

afterAll(async () => {
  await h.close();
});

describe("the import, end to end", () => {
  it("turns one compose-finished event into one COMPLETE Koji build whose metadata is the assembled document", async () => {
    const { composeId, event } = await h.prepareCompose();
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    expect(row.state).toBe("imported");
    expect(row.koji_build_id).toBeGreaterThan(0);

    const build = h.hub.state.builds.get(row.koji_build_id as number);
    expect(build?.state).toBe(1);
    const expected = withBuildId(
      assembleCgMetadata({
        event: parseComposeFinishedEvent(event) as KojiComposeFinishedEvent,
        logs: ComposeLogsSchema.parse(loadCompose(COMPOSES.success).logs),
      }),
      row.koji_build_id as number,
    );
    expect(build?.metadata).toEqual(expected);
    expect(row.cg_metadata).toEqual(expected);
    expect(build?.extra).toEqual(expected.build.extra);
    expect(
      build?.archives.map((a) => [a.filename.split(".").slice(-2).join("."), a.type_name, a.btype]),
    ).toContainEqual(["raw.xz", "raw-xz", "image"]);
    expect(build?.logs).toHaveLength(2);

    const outputs = await h.pool.query("SELECT filename, type FROM import_outputs WHERE compose_id = $1", [
      composeId,
    ]);
    expect(outputs.rowCount).toBe(expected.output.length);
    const attempts = await h.pool.query(
      "SELECT step FROM import_attempts WHERE compose_id = $1 ORDER BY id",
      [composeId],
    );
    expect(attempts.rows.map((r) => r.step)).toEqual([
      "fetch",
      "assemble",
      "reserve",
      "check-uploads",
      "import",
    ]);
  });

  it("uses composer's own reservation when koji.init made one", async () => {
    const { composeId, event } = await h.prepareCompose(COMPOSES.reserved);
    // composer reserved the build on the hub before the compose ran; the fixture names its id and token.
    const reservation = h.hub.state.newBuild(h.hub.state.user("osbuild"), "osbuild", event.koji, 0);
    reservation.token = "reservation-token-1001";
    h.hub.state.builds.delete(reservation.id);
    reservation.id = 1001;
    h.hub.state.builds.set(1001, reservation);
    const initCalls = h.hub.counters.calls.CGInitBuild ?? 0;
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    expect(row.last_error).toBeNull();
    expect(row).toMatchObject({ state: "imported", koji_build_id: 1001, reservation_source: "composer" });
    expect(h.hub.counters.calls.CGInitBuild ?? 0).toBe(initCalls);
  });

  it("records a failed compose and imports nothing", async () => {
    const { composeId, event } = await h.prepareCompose(COMPOSES.failure);
    const imports = h.hub.counters.calls.CGImport ?? 0;
    await h.publish(event);
    const row = await h.waitForState(composeId, ["failed", "refunded", "imported"]);
    expect(row).toMatchObject({ state: "failed", last_error_code: "COMPOSE_FAILED" });
    expect(row.last_error).toContain("osbuild build failed");
    expect(h.hub.counters.calls.CGImport ?? 0).toBe(imports);
  });

  it("a failed compose whose manifest job failed (composer lists null) is recorded failed, not a bad response", async () => {
    const { composeId, event } = await h.prepareCompose(COMPOSES.failure);
    const bodies = loadCompose(COMPOSES.failure);
    const manifests = { ...bodies.manifests, manifests: [null] };
    h.composer.addCompose(composeId, { status: bodies.status, logs: bodies.logs, manifests });
    await h.publish(event);
    const row = await h.waitForState(composeId, ["failed", "refunded", "imported"]);
    expect(row).toMatchObject({ state: "failed", last_error_code: "COMPOSE_FAILED" });
  });

  it("a compose that stays pending past the attempt limit fails saying it gave up, with the last reason", async () => {
    const { composeId, event } = await h.prepareCompose();
    const bodies = loadCompose(COMPOSES.success);
    const pending = { ...bodies.status, status: "pending", image_status: { status: "building" } };
    const notYet = { ...bodies.manifests, manifests: [null, null] };
    h.composer.addCompose(composeId, { status: pending, logs: bodies.logs, manifests: notYet });
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"], 20_000);
    expect(row).toMatchObject({ state: "failed", last_error_code: "COMPOSER_NOT_FINISHED" });
    // MAX_ATTEMPTS is 6 in the harness: not "still pending" as if it would be tried again.
    expect(row.last_error).toMatch(/^gave up after 6 attempts: /);
  });

  it("a compose still pending, whose manifests are not made yet, is retried until composer has it", async () => {
    const { composeId, event } = await h.prepareCompose();
    const bodies = loadCompose(COMPOSES.success);
    const pending = { ...bodies.status, status: "pending", image_status: { status: "building" } };
    const notYet = { ...bodies.manifests, manifests: [null, null] };
    h.composer.addCompose(composeId, { status: pending, logs: bodies.logs, manifests: notYet });
    await h.publish(event);
    const end = Date.now() + 10_000;
    let row = await h.waitForState(composeId, ["received", "imported", "failed", "refunded"]);
    while (row.last_error_code !== "COMPOSER_NOT_FINISHED" && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      row = await h.waitForState(composeId, ["received", "imported", "failed", "refunded"]);
    }
    expect(row).toMatchObject({ state: "received", last_error_code: "COMPOSER_NOT_FINISHED" });
    h.composer.addCompose(composeId, {
      status: bodies.status,
      logs: bodies.logs,
      manifests: bodies.manifests,
    });
    expect((await h.waitForState(composeId, ["imported", "failed", "refunded"])).state).toBe("imported");
  });

  it("a failed compose refunds composer's reservation, or finds it given back already", async () => {
    for (const alreadyFailed of [false, true]) {
      const { composeId, event } = await h.prepareCompose(COMPOSES.failure);
      const bodies = loadCompose(COMPOSES.failure);
      const reservation = h.hub.state.newBuild(h.hub.state.user("osbuild"), "osbuild", event.koji, 0);
      reservation.token = `reservation-token-${reservation.id}`;
      const logs = {
        ...bodies.logs,
        koji: { init: { build_id: reservation.id, token: reservation.token }, import: {} },
      };
      h.composer.addCompose(composeId, { status: bodies.status, logs, manifests: bodies.manifests });
      // Composer itself may have failed the build before publishing the event.
      if (alreadyFailed) Object.assign(reservation, { state: 3, token: null });
      await h.publish(event);
      const row = await h.waitForState(composeId, ["failed", "refunded", "imported"]);
      expect(row, `composer failed it first: ${alreadyFailed}`).toMatchObject({
        state: "refunded",
        last_error_code: "COMPOSE_FAILED",
      });
      expect(h.hub.state.builds.get(reservation.id)?.state).toBe(3);
    }
  });

  it("acknowledges and records a compose without Koji as ignored", async () => {
    const { composeId, event } = await h.prepareCompose();
    const { koji: _koji, ...plain } = event;
    await h.publish(plain);
    const row = await h.waitForState(composeId, ["ignored"]);
    expect(row.koji_server).toBeNull();
  });
});
