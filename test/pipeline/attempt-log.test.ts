import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, type Harness } from "./harness.js";

let h: Harness;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  h = await createHarness("attemptlog");
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  await h.startWorker({}, { logger });
});

afterAll(async () => {
  await h.close();
});

it("a failed step the attempt log cannot take is logged with the compose id, and the import still settles", async () => {
  const { composeId, event } = await h.prepareCompose();
  // The attempt log refuses this import's failure lines (its "ok" lines go in as ever).
  await h.pool.query(`CREATE FUNCTION refuse_failure_line() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'attempt log refuses %', NEW.step; END $$;
    CREATE TRIGGER refuse_failure_line BEFORE INSERT ON import_attempts FOR EACH ROW
      WHEN (NEW.outcome <> 'ok' AND NEW.compose_id = '${composeId}') EXECUTE FUNCTION refuse_failure_line();`);
  try {
    h.hub.inject.importFailure({ faultCode: 1000, faultString: "Build (42) NVR is different" });
    await h.publish(event);
    const row = await h.waitForState(composeId, ["imported", "failed", "refunded"]);
    expect(row.state).toBe("refunded");
    expect(row.last_error_code).toBe("KOJI_FAULT");
    const said = lines.filter((line) => line.msg === "could not write the failed step to the attempt log");
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ compose_id: composeId, step: "import", failure: "KOJI_FAULT" });
    expect(JSON.stringify(said[0])).toContain("attempt log refuses import");
  } finally {
    await h.pool.query(
      "DROP TRIGGER refuse_failure_line ON import_attempts; DROP FUNCTION refuse_failure_line()",
    );
  }
});
