import type pg from "pg";
import { type ImportState, stateChanges } from "../../src/store/import-states.js";

/**
 * The application_name of a test's own connections: the state changes a test makes by hand (to set a scene)
 * are not the importer's, and are not checked against the state machine.
 */
const TEST_APPLICATION_NAME = "oki-test";

/** `url` with TEST_APPLICATION_NAME as its application_name. */
export function testConnectionUrl(url: string): string {
  const tagged = new URL(url);
  tagged.searchParams.set("application_name", TEST_APPLICATION_NAME);
  return tagged.toString();
}

/**
 * Records every state change of an import that commits (a row created, or its state changed) from any
 * connection but the test's own, with the statement that made it: for `strayStateChanges`. A trigger, so it sees
 * worker processes the test starts and kills as well as the worker in the test's own process.
 */
export async function recordStateChanges(db: pg.Pool | pg.Client): Promise<void> {
  await db.query(`
    CREATE TABLE test_state_changes (from_state text, to_state text NOT NULL, statement text NOT NULL);
    CREATE FUNCTION test_record_state_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('application_name') <> '${TEST_APPLICATION_NAME}'
         AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM NEW.state) THEN
        INSERT INTO test_state_changes
        VALUES (CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END, NEW.state, current_query());
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER test_record_state_change AFTER INSERT OR UPDATE OF state ON imports
      FOR EACH ROW EXECUTE FUNCTION test_record_state_change();
  `);
}

export interface SeenStateChange {
  from: ImportState | null;
  to: ImportState;
  statement: string;
}

/** Whether the state machine has a statement that goes from `from` (null: a new row) to `to`. */
function inStateMachine(from: ImportState | null, to: ImportState): boolean {
  return stateChanges().some(
    (change) =>
      (from === null ? change.from.length === 0 : change.from.includes(from)) && change.to.includes(to),
  );
}

/** The state changes recorded since recordStateChanges, each pair once (with one statement that made it). */
export async function seenStateChanges(db: pg.Pool | pg.Client): Promise<SeenStateChange[]> {
  const result = await db.query<SeenStateChange>(
    `SELECT from_state AS "from", to_state AS "to", min(statement) AS statement FROM test_state_changes
     GROUP BY from_state, to_state ORDER BY 1 NULLS FIRST, 2`,
  );
  return result.rows;
}

/** The recorded state changes that the state machine (src/store/import-states.ts) does not allow. */
export async function strayStateChanges(db: pg.Pool | pg.Client): Promise<SeenStateChange[]> {
  return (await seenStateChanges(db)).filter((change) => !inStateMachine(change.from, change.to));
}
