import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CgMetadata } from "../../src/schemas/cg-metadata.js";
import { getImport } from "../../src/store/index.js";
import { createRealHubHarness, type RealHubHarness, type WorkerProcess } from "./harness.js";
import { describeRealHub } from "./realhub.js";

/** A real worker is killed this long into CGImport (the issue measured 1 s) and restarted at once. */
const KILL_AFTER_MS = 1000;
/** The first image of the composes killed during CGImport: the hub checksums it inside CGImport (seconds). */
const BIG_IMAGE_BYTES = Number(process.env.REALHUB_BIG_IMAGE_BYTES ?? 1024 ** 3);

await describeRealHub("the importer against the real Koji hub", (hub) => {
  let h: RealHubHarness;
  let worker: WorkerProcess;

  beforeAll(async () => {
    h = await createRealHubHarness(hub(), "realkoji", {
      kojiHubs: [hub().kojiHub("vhost"), hub().kojiHub("documented")],
    });
    worker = h.startWorker();
  });

  afterAll(async () => {
    await h?.close();
  });

  const final = ["imported", "failed", "refunded"];

  it("imports a multi-arch compose as one COMPLETE build, equal field by field to the CG document", async () => {
    const compose = await h.prepareCompose();
    await h.publish(compose.event);
    const row = await h.waitForState(compose.composeId, final);
    expect(row).toMatchObject({ state: "imported", last_error: null, reservation_source: "importer" });
    const doc = (await getImport(h.pool, compose.composeId))?.cg_metadata as CgMetadata;
    const build = await h.koji.getBuild(row.koji_build_id as number);
    expect(build).toMatchObject({
      id: row.koji_build_id,
      name: doc.build.name,
      version: doc.build.version,
      release: doc.build.release,
      state: 1,
      task_id: compose.event.koji.task_id,
      cg_name: "osbuild",
      owner_name: "osbuild",
      source: doc.build.source,
    });
    expect(build?.extra).toEqual(doc.build.extra);
    const archives = await h.koji.listArchives({ buildID: row.koji_build_id as number });
    const images = doc.output.filter((output) => output.type !== "log");
    expect(archives.map((a) => a.filename).sort()).toEqual(images.map((o) => o.filename).sort());
    for (const output of images) {
      const archive = archives.find((a) => a.filename === output.filename);
      expect(archive, output.filename).toMatchObject({
        size: output.filesize,
        checksum: output.checksum,
        checksum_type: 0,
        btype: "image",
        extra: output.extra,
      });
    }
    const arches = new Set(images.map((o) => (o.extra as { image?: { arch?: string } }).image?.arch));
    expect([...arches].sort()).toEqual(["aarch64", "x86_64"]);
  });

  it("the same event 4 times, to 2 workers: one build, one import", async () => {
    const second = h.startWorker();
    try {
      const compose = await h.prepareCompose();
      for (let i = 0; i < 4; i += 1) await h.publish(compose.event);
      const row = await h.waitForState(compose.composeId, final);
      expect(row.state).toBe("imported");
      // Every copy handled: nothing left in the work queue.
      await expect.poll(async () => (await h.admin.checkQueue(h.names.workQueue)).messageCount).toBe(0);
      const build = await h.koji.getBuild(compose.nvr);
      expect(build).toMatchObject({ id: row.koji_build_id, state: 1 });
      expect(await h.deadLetterCount()).toBe(0);
    } finally {
      await second.kill("SIGTERM");
    }
  });

  it("a compose the hub refuses for good (outputs whose checksums do not match) is dead-lettered and refunded", async () => {
    const compose = await h.prepareCompose({ corrupt: true });
    await h.publish(compose.event);
    const row = await h.waitForState(compose.composeId, final);
    expect(row).toMatchObject({ state: "refunded", last_error_code: "KOJI_FAULT" });
    expect(row.last_error).toContain("File checksum mismatch");
    const dead = await h.nextDeadLetter();
    expect(dead.properties.headers?.["x-compose-id"]).toBe(compose.composeId);
    expect(await h.koji.getBuild(row.koji_build_id as number)).toMatchObject({ state: 3 });
  });

  it("logs in on Koji's documented layout (certificate only under /kojihub/ssllogin) and imports there", async () => {
    const compose = await h.prepareCompose({ server: hub().documentedUrl });
    await h.publish(compose.event);
    const row = await h.waitForState(compose.composeId, final);
    expect(row).toMatchObject({ state: "imported", last_error: null });
    expect(await h.koji.getBuild(compose.nvr)).toMatchObject({ id: row.koji_build_id, state: 1 });
  });

  it("hub sessions that expire are logged in again", async () => {
    const db = new pg.Client({ connectionString: hub().databaseUrl });
    await db.connect();
    try {
      const first = await h.prepareCompose();
      await h.publish(first.event);
      expect((await h.waitForState(first.composeId, final)).state).toBe("imported");
      // The worker's sessions, and any other osbuild session of the last minutes, expire as the hub's renewal
      // timeout would have it.
      const expired = await db.query(
        `UPDATE sessions SET expired = TRUE
         WHERE NOT expired AND user_id = (SELECT id FROM users WHERE name = 'osbuild')
           AND update_time > now() - interval '5 minutes'`,
      );
      expect(expired.rowCount).toBeGreaterThan(0);
      const second = await h.prepareCompose();
      await h.publish(second.event);
      const row = await h.waitForState(second.composeId, final);
      expect(row).toMatchObject({ state: "imported", last_error: null });
    } finally {
      await db.end();
    }
  });

  for (const source of ["importer", "composer"] as const) {
    it(`a worker killed during a slow CGImport and restarted at once (reservation by ${source}): one import, no refund`, async () => {
      const compose = await h.prepareCompose({
        imageBytes: BIG_IMAGE_BYTES,
        composerReservation: source === "composer",
      });
      const dead = await h.deadLetterCount();
      const logOffset = statSync(hub().errorLog).size;
      await h.publish(compose.event);
      const sent = await h.waitFor(compose.composeId, (row) => row?.import_started_at != null);
      await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
      expect(await worker.kill("SIGKILL")).toBe("SIGKILL");
      worker = h.startWorker();
      const during = await h.koji.getBuild(sent.koji_build_id as number);
      expect(
        during?.state,
        "the hub must still be inside CGImport at the kill (raise REALHUB_BIG_IMAGE_BYTES)",
      ).toBe(0);

      const row = await h.waitForState(compose.composeId, final, 300_000);
      expect(row).toMatchObject({ state: "imported", last_error: null, koji_build_id: sent.koji_build_id });
      if (source === "composer") expect(row.koji_build_id).toBe(compose.reservation?.build_id);
      expect(await h.koji.getBuild(compose.nvr)).toMatchObject({ id: row.koji_build_id, state: 1 });
      expect(await h.deadLetterCount()).toBe(dead);
      // The restarted worker did not import again: it found the CGImport still running and waited for it, or
      // (on an idle hub that finishes first) found its build already COMPLETE. Which one is the hub's timing;
      // the fake hub's slow CGImport (test/pipeline/crash-safety.test.ts) pins the waiting path.
      const restartedLog = readFileSync(worker.logFile, "utf8");
      expect(restartedLog).toContain(`"compose_id":"${compose.composeId}"`);
      expect(
        restartedLog
          .split("\n")
          .some(
            (line) =>
              line.includes(compose.composeId) &&
              (line.includes("waiting for it") ||
                line.includes("an earlier CGImport had imported the build")),
          ),
        "the restarted worker should have waited for the running CGImport or found its build COMPLETE",
      ).toBe(true);
      // The hub's own account: no second CGImport of the reservation was refused, no refund was tried.
      const log = hubLogSince(hub().errorLog, logOffset);
      expect(log).not.toContain(
        `Destination directory already exists: /mnt/koji/packages/${compose.nvr.replace(/-([^-]+)-([^-]+)$/, "/$1/$2")}`,
      );
      expect(log).not.toContain(`Build ID ${row.koji_build_id} is not in BUILDING state`);
      expect(row.attempts, "one attempt killed, one that waited").toBeLessThanOrEqual(2);
    }, 600_000);
  }
});

/** What the hub wrote to its log since `offset` (its size before), to read its own account of a scenario. */
function hubLogSince(errorLog: string, offset: number): string {
  const size = statSync(errorLog).size;
  const fd = openSync(errorLog, "r");
  try {
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}
