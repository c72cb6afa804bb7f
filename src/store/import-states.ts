/**
 * The import state machine, in one place: each state, what it means, the pipeline step that runs in it, and
 * every state change out of it, named by the store statement that makes it. Read from here: each statement's
 * SQL guard (`state = ANY(from)`) and the state it sets (guarded-update.ts), the step for each state
 * (src/pipeline/run-import.ts), which imports are over (FINAL_STATES) or may be reopened
 * (RETRYABLE_BY_OPERATOR), and the state names the admin API accepts and shows. The migrations' CHECK constraint
 * lists IMPORT_STATES (test/store/store.test.ts keeps the two equal); test/store/import-states.test.ts runs every
 * statement in every state against MACHINE, and the pipeline tests' harness fails a test file in which the
 * importer made a state change MACHINE does not have.
 *
 *   recordEvent → received ─saveFetched→ fetched ─saveAssembled→ assembled ─saveReservation→ reserved
 *                 ─markUploaded→ uploaded ─markImported→ imported
 *   assembled | reserved ─markImported→ imported      (Koji shows this import's reservation COMPLETE)
 *   received … uploaded ─markFailed→ failed | refunded ─retryImport→ received
 *   recordEvent → ignored                              (a compose without Koji)
 *
 * A mark (markReservationStarted, markUploadsWaiting, markImportStarted, markImportAnswered) records progress
 * within a state; it is guarded like a change of state, and listed as an exit back into the same state.
 */
export const IMPORT_STATES = [
  "received",
  "fetched",
  "assembled",
  "reserved",
  "uploaded",
  "imported",
  "failed",
  "refunded",
  "ignored",
] as const;

export type ImportState = (typeof IMPORT_STATES)[number];

/** The pipeline's steps (src/pipeline/steps), each run in one state; run-import.ts holds their code. */
export type StepName = "fetch" | "assemble" | "reserve" | "check-uploads" | "import";

interface StateEntry {
  /** The step that moves an import on from this state; a final state has none. */
  readonly step?: StepName;
  /** The statement that creates a row in this state. */
  readonly createdBy?: string;
  /** Each statement that may run in this state, and the state (or the states) it leaves the import in. */
  readonly exits: Readonly<Record<string, ImportState | readonly ImportState[]>>;
}

/**
 * Giving up, from any state a step runs in: `refunded` when a reservation (the import's own, or composer's
 * koji-init one) was given back, else `failed`; the token is cleared and the result event written with it.
 */
const GIVE_UP = { markFailed: ["failed", "refunded"] } as const;

const MACHINE = {
  /**
   * The event is recorded (a duplicate of it finds the row and changes nothing). fetch asks composer for the
   * compose, its logs and its manifests, and stores them; a permanent failure (an answer that does not parse,
   * say) gives up.
   */
  received: {
    step: "fetch",
    createdBy: "recordEvent",
    exits: { saveFetched: "fetched", ...GIVE_UP },
  },
  /**
   * Composer's answers are stored. assemble builds the CG document from them and stores it with one row per
   * output; a compose that failed is no import: it gives up at once, refunding composer's reservation if any.
   */
  fetched: {
    step: "assemble",
    exits: { saveAssembled: "assembled", ...GIVE_UP },
  },
  /**
   * The CG document is stored. reserve runs the pre-flight, then takes composer's reservation or makes one:
   * markReservationStarted before CGInitBuild (a later try that finds the mark without a token knows a BUILDING
   * build of the NVR may be its own orphan), saveReservation with the build id and token. A later attempt that
   * finds an earlier reservation of this import COMPLETE in Koji records it imported.
   */
  assembled: {
    step: "reserve",
    exits: {
      markReservationStarted: "assembled",
      saveReservation: "reserved",
      markImported: "imported",
      ...GIVE_UP,
    },
  },
  /**
   * The import holds a reservation (koji_build_id and koji_token). check-uploads checks every output in the
   * upload directory: markUploadsWaiting starts the bounded wait for hub replicas at the first miss,
   * markUploaded ends it. Giving up finds the reservation COMPLETE (an earlier CGImport of it committed) when
   * Koji refuses its refund for that reason: imported, not failed.
   */
  reserved: {
    step: "check-uploads",
    exits: {
      markUploadsWaiting: "reserved",
      markUploaded: "uploaded",
      markImported: "imported",
      ...GIVE_UP,
    },
  },
  /**
   * Every output is in place. import sends CGImport: markImportStarted before each (while set, that CGImport
   * may still be running on the hub, and a retry waits for it instead of sending another), markImportAnswered
   * when the hub answers with a fault, markImported when the build is made or Koji shows it COMPLETE.
   */
  uploaded: {
    step: "import",
    exits: {
      markImportStarted: "uploaded",
      markImportAnswered: "uploaded",
      markImported: "imported",
      ...GIVE_UP,
    },
  },
  /** Final: Koji has the build (koji_build_id); its result event was written with the change. */
  imported: { exits: {} },
  /**
   * Final: a permanent failure, or the attempts spent, with no reservation given back (none was made, or it
   * could not be refunded: last_error names it). An operator's retry, or a replayed dead letter, reopens it.
   */
  failed: { exits: { retryImport: "received" } },
  /** Final: as `failed`, after the reservation was given back (CGRefundBuild); reopened the same way. */
  refunded: { exits: { retryImport: "received" } },
  /** Final: a compose without Koji, recorded so that its duplicates are acked too; nothing to import. */
  ignored: { createdBy: "recordEvent", exits: {} },
} as const satisfies Record<ImportState, StateEntry>;

type Entry = (typeof MACHINE)[ImportState];
type ExitsOf<E> = E extends { exits: infer X } ? keyof X : never;
type CreatorOf<E> = E extends { createdBy: infer C } ? C : never;

/** A store statement that creates an import or changes (or marks) its state. */
export type Statement = ExitsOf<Entry> | CreatorOf<Entry>;

export interface StateChange {
  readonly statement: Statement;
  /** The states it may run in, its SQL guard; empty for the INSERT that creates a row. */
  readonly from: readonly ImportState[];
  /** The states it may leave the import in (from every state of `from` alike). */
  readonly to: readonly ImportState[];
}

function deriveStateChanges(): ReadonlyMap<Statement, StateChange> {
  const changes = new Map<Statement, { statement: Statement; from: ImportState[]; to: ImportState[] }>();
  const change = (statement: Statement) => {
    const found = changes.get(statement) ?? { statement, from: [], to: [] };
    changes.set(statement, found);
    return found;
  };
  for (const state of IMPORT_STATES) {
    const entry: StateEntry = MACHINE[state];
    if (entry.createdBy) change(entry.createdBy as Statement).to.push(state);
    for (const [statement, target] of Object.entries(entry.exits)) {
      const targets = typeof target === "string" ? [target] : [...target];
      const found = change(statement as Statement);
      // One guard and one assignment per statement: it must go to the same states from each state it runs in.
      if (found.from.length > 0 && found.to.join() !== targets.join())
        throw new Error(
          `${statement} goes to ${found.to.join("|")} from one state, ${targets.join("|")} from ${state}`,
        );
      found.from.push(state);
      found.to = targets;
    }
  }
  return changes;
}

const STATE_CHANGES = deriveStateChanges();

/** Every statement of the table, with where it may run and where it leaves the import. */
export function stateChanges(): StateChange[] {
  return [...STATE_CHANGES.values()];
}

export function stateChange(statement: Statement): StateChange {
  return STATE_CHANGES.get(statement) as StateChange;
}

/** The step that runs in `state`; undefined in a final state. */
export function stepIn(state: ImportState): StepName | undefined {
  const entry: StateEntry = MACHINE[state];
  return entry.step;
}

/** The states no step runs in: the import is over, until an operator reopens it. */
export const FINAL_STATES: ReadonlySet<ImportState> = new Set(IMPORT_STATES.filter((s) => !stepIn(s)));

/** States an SRE may put back to work with `retry` (and a replayed dead letter reopens). */
export const RETRYABLE_BY_OPERATOR: ReadonlySet<ImportState> = new Set(stateChange("retryImport").from);
