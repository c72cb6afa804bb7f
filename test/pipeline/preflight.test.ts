import { afterAll, beforeAll, expect, it } from "vitest";
import { COMPOSES } from "../fixtures/composes.js";
import { createHarness, type Harness } from "./harness.js";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("preflight");
  // This hub does not register qcow2: the hub would refuse the file only while moving it into the build.
  h.hub.state.unregisterArchiveTypes("qcow2");
  await h.startWorker();
});

afterAll(async () => {
  await h.close();
});

it("an extension the hub does not register fails before any reservation: nothing reserved, uploads intact", async () => {
  const { composeId, event } = await h.prepareCompose();
  const calls = { ...h.hub.counters.calls };
  await h.publish(event);
  const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
  expect(row).toMatchObject({ state: "failed", last_error_code: "KOJI_PREFLIGHT", attempts: 1 });
  expect(row.last_error).toContain(
    "Fedora-Cloud-Base-42-20250101.0.x86_64.qcow2: extension is not a registered archive type",
  );
  for (const method of ["CGInitBuild", "CGImport", "CGRefundBuild"]) {
    expect(h.hub.counters.calls[method] ?? 0, method).toBe(calls[method] ?? 0);
  }
  expect(h.hub.state.uploads.get(event.koji.upload_directory)?.files.size).toBe(8);
  expect([...h.hub.state.builds.values()].find((b) => b.release === event.koji.release)).toBeUndefined();
  const steps = await h.pool.query<{ step: string; error_code: string | null }>(
    "SELECT step, error_code FROM import_attempts WHERE compose_id = $1 ORDER BY id",
    [composeId],
  );
  expect(steps.rows.at(-1)).toMatchObject({ step: "preflight", error_code: "KOJI_PREFLIGHT" });
});

it("composer's own reservation is refunded when pre-flight refuses the compose", async () => {
  const { composeId, event } = await h.prepareCompose(COMPOSES.reserved);
  const reservation = h.hub.state.newBuild(h.hub.state.user("osbuild"), "osbuild", event.koji, 0);
  reservation.token = "reservation-token-1001";
  h.hub.state.builds.delete(reservation.id);
  reservation.id = 1001;
  h.hub.state.builds.set(1001, reservation);
  const inits = h.hub.counters.calls.CGInitBuild ?? 0;
  await h.publish(event);
  const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
  expect(row).toMatchObject({ state: "refunded", last_error_code: "KOJI_PREFLIGHT", attempts: 1 });
  expect(h.hub.state.builds.get(1001)?.state).toBe(3);
  expect(h.hub.counters.calls.CGInitBuild ?? 0).toBe(inits);
});

it("a metadata document over the hub's size limit fails before CGImport, naming the size", async () => {
  const worker = await h.startWorker({
    KOJI_MAX_METADATA_BYTES: "1000",
    AMQP_QUEUE: `${h.config.AMQP_QUEUE}.small`,
  });
  const { composeId, event } = await h.prepareCompose();
  // Only the small-limit worker's queue gets this event.
  await h.publisher.publishRaw("", `${h.config.AMQP_QUEUE}.small`, Buffer.from(JSON.stringify(event)));
  const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
  expect(row.last_error).toMatch(
    /the CGImport request is \d+ bytes \(metadata \d+\), over the hub's limit of 1000/,
  );
  await worker.stop();
  await h.admin.deleteQueue(`${h.config.AMQP_QUEUE}.small`);
  for (const suffix of [".retry.100ms", ".retry.200ms", ".dead-letter"]) {
    await h.admin.deleteQueue(`${h.config.AMQP_QUEUE}.small${suffix}`);
  }
  await h.admin.deleteExchange(`${h.config.AMQP_QUEUE}.small.dead-letter`);
});
