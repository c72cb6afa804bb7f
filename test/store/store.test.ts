import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assembleCgMetadata } from "../../src/core/assemble.js";
import { ImporterError, permanentError } from "../../src/errors.js";
import { ComposeLogsSchema } from "../../src/schemas/composer.js";
import { parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { DOCUMENT_COLUMNS, PROGRESS_COLUMNS } from "../../src/store/import-row.js";
import {
  createPool,
  findImportedNvr,
  getImport,
  IMPORT_STATES,
  markFailed,
  markImported,
  markImportStarted,
  markUploaded,
  pendingMigrations,
  recordEvent,
  runMigrations,
  saveAssembled,
  saveFetched,
  tryLockImport,
} from "../../src/store/index.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { createTestDatabase, type TestDatabase } from "../support/servers.js";

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase("store");
  pool = createPool(database.url, 4);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

const event = (id: string = COMPOSES.success) => parseComposeFinishedEvent(loadCompose(id).event);

describe("migrations", () => {
  it("create the schema from an empty database, and a second run changes nothing", async () => {
    expect((await pendingMigrations(pool)).length).toBeGreaterThan(0);
    expect((await runMigrations(database.url)).length).toBeGreaterThan(0);
    expect(await pendingMigrations(pool)).toEqual([]);
    expect(await runMigrations(database.url)).toEqual([]);
    const tables = await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.rows.map((r) => r.tablename)).toEqual([
      "import_attempts",
      "import_outputs",
      "import_result_outbox",
      "imports",
      "pgmigrations",
    ]);
  });

  it("keep the SQL state constraint equal to the state machine's list", async () => {
    const result = await pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE conrelid = 'imports'::regclass AND conname = 'imports_state_check'`,
    );
    const states = [...(result.rows[0]?.def ?? "").matchAll(/'(\w+)'/g)].map((m) => m[1]);
    expect(states).toEqual([...IMPORT_STATES]);
  });

  it("leave no column of imports out of the progress and document lists the store reads", async () => {
    const result = await pool.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'imports'",
    );
    // Both sorted here: the database's collation may order underscores differently from JavaScript.
    expect(result.rows.map((r) => r.column_name).sort()).toEqual(
      [...PROGRESS_COLUMNS, ...DOCUMENT_COLUMNS].sort(),
    );
  });
});

describe("import rows", () => {
  it("records an event once; a duplicate finds the same row unchanged", async () => {
    const first = await recordEvent(pool, event());
    expect(first.inserted).toBe(true);
    expect(first.row.state).toBe("received");
    expect(first.row.name).toBe("Fedora-Cloud-Base");
    const again = await recordEvent(pool, event());
    expect(again.inserted).toBe(false);
    expect(again.row.created_at).toEqual(first.row.created_at);
  });

  it("records a non-Koji compose as ignored", async () => {
    const { koji: _k, ...plain } = loadCompose(COMPOSES.failure).event;
    const { row } = await recordEvent(pool, parseComposeFinishedEvent(plain));
    expect(row.state).toBe("ignored");
  });

  it("guards every transition in SQL: a step out of order changes nothing and says why", async () => {
    const id = COMPOSES.success;
    const error = await markUploaded(pool, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImporterError);
    expect((error as ImporterError).code).toBe("STORE_STATE_CONFLICT");
    expect((await getImport(pool, id))?.state).toBe("received");
    const fetched = await saveFetched(pool, id, { status: { a: 1 }, logs: { b: 2 }, manifests: { c: 3 } });
    expect(fetched.state).toBe("fetched");
    expect(fetched).not.toHaveProperty("compose_logs");
    expect((await getImport(pool, id))?.compose_logs).toEqual({ b: 2 });
    await expect(saveFetched(pool, id, { status: {}, logs: {}, manifests: {} })).rejects.toThrow(
      /not in state received/,
    );
  });

  it("writes a step's attempt-log line with its state change, and none when the guard refuses", async () => {
    const id = "11111111-2222-4333-8444-555555555555";
    await recordEvent(pool, { ...event(), compose_id: id });
    const log = { attempt: 1, step: "fetch", startedAt: new Date("2026-01-02T03:04:05Z") };
    await saveFetched(pool, id, { status: {}, logs: {}, manifests: {} }, log);
    await expect(saveFetched(pool, id, { status: {}, logs: {}, manifests: {} }, log)).rejects.toThrow(
      /not in state received/,
    );
    const lines = await pool.query(
      "SELECT attempt, step, outcome, started_at FROM import_attempts WHERE compose_id = $1",
      [id],
    );
    expect(lines.rows).toEqual([{ attempt: 1, step: "fetch", outcome: "ok", started_at: log.startedAt }]);
  });

  it("stores the assembled outputs in one statement, replacing those of an earlier assembly", async () => {
    const id = "11111111-2222-4333-8444-666666666666";
    const compose = loadCompose(COMPOSES.success);
    const parsed = parseComposeFinishedEvent({ ...compose.event, compose_id: id });
    const document = assembleCgMetadata({
      event: parsed as never,
      logs: ComposeLogsSchema.parse(compose.logs),
    });
    await recordEvent(pool, parsed);
    await pool.query("UPDATE imports SET state = 'fetched' WHERE compose_id = $1", [id]);
    await pool.query(
      "INSERT INTO import_outputs VALUES ($1, 'gone.qcow2', 'image', 'x86_64', 1, 'md5', 'x', NULL)",
      [id],
    );
    const log = { attempt: 1, step: "assemble", startedAt: new Date() };
    expect((await saveAssembled(pool, id, document, log)).state).toBe("assembled");
    const outputs = await pool.query(
      "SELECT filename, type, filesize, extra_image FROM import_outputs WHERE compose_id = $1 ORDER BY filename",
      [id],
    );
    const expected = document.output
      .map((o) => ({
        filename: o.filename,
        type: o.type,
        filesize: String(o.filesize),
        extra_image: (o.extra as { image?: unknown } | undefined)?.image ?? null,
      }))
      .sort((a, b) => a.filename.localeCompare(b.filename));
    expect(outputs.rows).toEqual(expected);
    expect((await getImport(pool, id))?.cg_metadata).toEqual(JSON.parse(JSON.stringify(document)));
    const lines = await pool.query("SELECT step FROM import_attempts WHERE compose_id = $1", [id]);
    expect(lines.rows).toEqual([{ step: "assemble" }]);
  });

  it("ends a failure with its error and forgets the token", async () => {
    const id = COMPOSES.reserved;
    await recordEvent(pool, event(id));
    const row = await markFailed(pool, id, permanentError("KOJI_FAULT", "nope"), "failed");
    expect(row).toMatchObject({
      state: "failed",
      last_error: "nope",
      last_error_code: "KOJI_FAULT",
      koji_token: null,
    });
    await expect(markFailed(pool, id, permanentError("KOJI_FAULT", "again"), "failed")).rejects.toThrow(
      /not in state/,
    );
  });

  it("finds an NVR imported from another compose", async () => {
    const id = COMPOSES.success;
    await pool.query("UPDATE imports SET state = 'uploaded' WHERE compose_id = $1", [id]);
    await markImportStarted(pool, id);
    const imported = await markImported(pool, id, 55);
    expect(imported.koji_build_id).toBe(55);
    const nvr = {
      server: "https://koji.example.org/kojihub",
      name: "Fedora-Cloud-Base",
      version: "42",
      release: "20250101.0",
    };
    expect(await findImportedNvr(pool, "00000000-0000-4000-8000-000000000000", nvr)).toEqual({
      compose_id: id,
      koji_build_id: 55,
    });
    expect(await findImportedNvr(pool, id, nvr)).toBeUndefined();
  });
});

describe("tryLockImport", () => {
  it("lets one holder at a time work on a compose, and frees it on release", async () => {
    const first = await tryLockImport(pool, COMPOSES.success);
    expect(first).toBeDefined();
    expect(await tryLockImport(pool, COMPOSES.success)).toBeUndefined();
    const other = await tryLockImport(pool, COMPOSES.failure);
    expect(other).toBeDefined();
    await other?.release();
    await first?.release();
    const again = await tryLockImport(pool, COMPOSES.success);
    expect(again).toBeDefined();
    await again?.release();
  });
});
