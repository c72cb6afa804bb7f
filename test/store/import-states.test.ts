import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImporterError, permanentError } from "../../src/errors.js";
import { parseComposeFinishedEvent } from "../../src/schemas/event.js";
import {
  markFailed,
  markImportAnswered,
  markImported,
  markImportStarted,
} from "../../src/store/import-result.js";
import {
  FINAL_STATES,
  IMPORT_STATES,
  type ImportState,
  RETRYABLE_BY_OPERATOR,
  type Statement,
  stateChange,
  stateChanges,
  stepIn,
} from "../../src/store/import-states.js";
import { createPool, getImport, recordEvent, runMigrations } from "../../src/store/index.js";
import { retryImport } from "../../src/store/queries/retry-import.js";
import { markReservationStarted, saveReservation } from "../../src/store/reservation.js";
import { saveAssembled } from "../../src/store/save-assembled.js";
import { saveFetched } from "../../src/store/save-fetched.js";
import { markUploaded, markUploadsWaiting } from "../../src/store/uploads.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { createTestDatabase, type TestDatabase } from "../support/servers.js";

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase("states");
  await runMigrations(database.url);
  pool = createPool(database.url, 4);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** A new import of its own NVR (one NVR may be imported once), put in `state` by hand. */
async function importIn(state: ImportState): Promise<string> {
  const composeId = randomUUID();
  const event = loadCompose(COMPOSES.success).event as { koji: Record<string, unknown> };
  await recordEvent(
    pool,
    parseComposeFinishedEvent({
      ...event,
      compose_id: composeId,
      koji: { ...event.koji, release: composeId.replaceAll("-", ".") },
    }),
  );
  await pool.query("UPDATE imports SET state = $2 WHERE compose_id = $1", [composeId, state]);
  return composeId;
}

/** Each guarded statement of the state machine, made through the store function that makes it. */
const PERFORM: Record<
  Exclude<Statement, "recordEvent">,
  (composeId: string, to: ImportState) => Promise<unknown>
> = {
  saveFetched: (id) => saveFetched(pool, id, { status: {}, logs: {}, manifests: {} }),
  saveAssembled: (id) => saveAssembled(pool, id, { output: [] } as never),
  markReservationStarted: (id) => markReservationStarted(pool, id),
  saveReservation: (id) => saveReservation(pool, id, { buildId: 7, token: "t", source: "importer" }, {}),
  markUploadsWaiting: (id) => markUploadsWaiting(pool, id),
  markUploaded: (id) => markUploaded(pool, id),
  markImportStarted: (id) => markImportStarted(pool, id),
  markImportAnswered: (id) => markImportAnswered(pool, id),
  markImported: (id) => markImported(pool, id, 7),
  markFailed: (id, to) =>
    markFailed(pool, id, permanentError("KOJI_FAULT", "no"), to as "failed" | "refunded"),
  retryImport: async (id) => {
    if (!(await retryImport(pool, id))) throw new Error("retryImport changed nothing");
  },
};

describe("the state machine", () => {
  it("has every statement run in exactly the states of its guard, and leave the import where it says", async () => {
    for (const change of stateChanges().filter((c) => c.statement !== "recordEvent")) {
      const perform = PERFORM[change.statement as Exclude<Statement, "recordEvent">];
      for (const to of change.to) {
        for (const state of IMPORT_STATES) {
          const id = await importIn(state);
          const outcome = await perform(id, to).then(
            () => "done",
            (error: unknown) => (error instanceof ImporterError ? error.code : String(error)),
          );
          const what = `${change.statement} → ${to} in ${state}`;
          if (change.from.includes(state)) {
            expect(outcome, what).toBe("done");
            expect((await getImport(pool, id))?.state, what).toBe(to);
          } else {
            expect(outcome, what).toMatch(/STORE_STATE_CONFLICT|retryImport changed nothing/);
            expect((await getImport(pool, id))?.state, what).toBe(state);
          }
        }
      }
    }
  });

  it("has recordEvent create an import received, or ignored without Koji", async () => {
    expect(stateChange("recordEvent")).toEqual({
      statement: "recordEvent",
      from: [],
      to: ["received", "ignored"],
    });
    const event = loadCompose(COMPOSES.success).event;
    const { koji: _koji, ...plain } = event;
    const koji = await recordEvent(pool, parseComposeFinishedEvent({ ...event, compose_id: randomUUID() }));
    const without = await recordEvent(
      pool,
      parseComposeFinishedEvent({ ...plain, compose_id: randomUUID() }),
    );
    expect([koji.row.state, without.row.state]).toEqual(["received", "ignored"]);
  });

  it("is the one place a guard comes from: each guarded statement is named by one store function", () => {
    const root = new URL("../../src/", import.meta.url).pathname;
    const files = (readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith(".ts") && f !== join("store", "import-states.ts"))
      .map((f) => ({ file: relative(root, join(root, f)), text: readFileSync(join(root, f), "utf8") }));
    const named = files.flatMap(({ file, text }) =>
      [...text.matchAll(/(?:guardedUpdate\(\s*\w+,\s*\w+,\s*|stateChange\()"(\w+)"/g)].map((m) => ({
        file,
        statement: m[1],
      })),
    );
    const guarded = stateChanges()
      .filter((c) => c.from.length > 0)
      .map((c) => c.statement)
      .sort();
    expect(named.map((n) => n.statement).sort()).toEqual(guarded);
    // No other statement sets an import's state: only guardedUpdate, and the operator's retry.
    const setters = files.filter(({ text }) =>
      [...text.matchAll(/UPDATE imports\s+SET([\s\S]*?)WHERE/g)].some((m) => /\bstate\s*=/.test(m[1] ?? "")),
    );
    expect(setters.map((s) => s.file)).toEqual([join("store", "queries", "retry-import.ts")]);
  });

  it("runs a step in each state but the final ones, which only an operator's retry leaves", () => {
    expect(IMPORT_STATES.filter((s) => stepIn(s) !== undefined)).toEqual([
      "received",
      "fetched",
      "assembled",
      "reserved",
      "uploaded",
    ]);
    expect([...FINAL_STATES]).toEqual(["imported", "failed", "refunded", "ignored"]);
    expect([...RETRYABLE_BY_OPERATOR]).toEqual(["failed", "refunded"]);
    const leaveFinal = stateChanges().filter((c) => c.from.some((s) => FINAL_STATES.has(s)));
    expect(leaveFinal.map((c) => c.statement)).toEqual(["retryImport"]);
  });
});
