import { retryableError } from "../errors.js";
import { type ImportState, type StepName, stepIn } from "../store/import-states.js";
import { inSpan } from "../telemetry/spans.js";
import type { ImportContext } from "./context.js";
import { type CrashPoint, crashPoint } from "./crash-hook.js";
import { assembleDocument } from "./steps/assemble.js";
import { checkUploads } from "./steps/check-uploads.js";
import { composeFailed, finishFailedCompose } from "./steps/failed-compose.js";
import { fetchCompose } from "./steps/fetch.js";
import { importBuild } from "./steps/import.js";
import { preflight, recheckRequestSize } from "./steps/preflight.js";
import { reserveBuild } from "./steps/reserve.js";

interface Step {
  name: StepName;
  run(ctx: ImportContext): Promise<void>;
  /** Where a crash test may kill the worker once the step's result is committed. */
  after: CrashPoint;
}

/** What each step runs; the state it runs in is the state machine's (src/store/import-states.ts). */
const STEPS: Record<StepName, Omit<Step, "name">> = {
  fetch: { run: fetchCompose, after: "fetched" },
  assemble: {
    run: (ctx) => (composeFailed(ctx) ? finishFailedCompose(ctx) : assembleDocument(ctx)),
    after: "assembled",
  },
  // Pre-flight needs no reservation, so it comes before one: a compose Koji would refuse costs none.
  reserve: { run: preflightThenReserve, after: "reserved" },
  "check-uploads": { run: checkUploads, after: "uploads-checked" },
  import: { run: (ctx) => importBuild(ctx, recheckRequestSize(ctx)), after: "imported" },
};

/** The step that moves an import on from a non-final state: resuming is running the step for the state. */
function stepFor(state: ImportState): Step | undefined {
  const name = stepIn(state);
  return name && { name, ...STEPS[name] };
}

export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly error: unknown,
  ) {
    super(`${step}: ${String(error)}`);
  }
}

/** A pre-flight failure is the pre-flight's, in the attempt log and the metrics, not the reservation's. */
async function preflightThenReserve(ctx: ImportContext): Promise<void> {
  try {
    await preflight(ctx);
  } catch (error) {
    throw new StepError("preflight", error);
  }
  await reserveBuild(ctx);
}

/**
 * Runs steps from the row's state until the import reaches a final state; a failing step throws StepError.
 * A step ends with the state change that writes its "ok" line of the attempt log (ctx.stepLog), in one commit.
 */
export async function runImport(ctx: ImportContext, onStep: (step: string, ms: number) => void) {
  for (let step = stepFor(ctx.row.state); step; step = stepFor(ctx.row.state)) {
    // Stopping: the step that ran is committed; the next one is another worker's (the event is given back).
    if (ctx.stopping.aborted)
      throw new StepError(step.name, retryableError("SHUTTING_DOWN", "the worker is stopping"));
    const startedAt = new Date();
    ctx.stepLog = { attempt: ctx.attempt, step: step.name, startedAt };
    const logger = ctx.logger;
    ctx.logger = logger.child({ step: step.name });
    try {
      const current = step;
      await inSpan(`step ${current.name}`, { "importer.step": current.name }, () => current.run(ctx));
    } catch (error) {
      throw error instanceof StepError ? error : new StepError(step.name, error);
    } finally {
      ctx.logger = logger;
    }
    onStep(step.name, Date.now() - startedAt.getTime());
    crashPoint(step.after);
  }
}
