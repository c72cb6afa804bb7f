import { retryableError } from "../errors.js";
import type { ImportState } from "../store/import-states.js";
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
  name: string;
  run(ctx: ImportContext): Promise<void>;
  /** Where a crash test may kill the worker once the step's result is committed. */
  after: CrashPoint;
}

/** The step that moves an import on from each non-final state: resuming is running the step for the state. */
const STEP_FOR_STATE: Partial<Record<ImportState, Step>> = {
  received: { name: "fetch", run: fetchCompose, after: "fetched" },
  fetched: {
    name: "assemble",
    run: (ctx) => (composeFailed(ctx) ? finishFailedCompose(ctx) : assembleDocument(ctx)),
    after: "assembled",
  },
  // Pre-flight needs no reservation, so it comes before one: a compose Koji would refuse costs none.
  assembled: { name: "reserve", run: preflightThenReserve, after: "reserved" },
  reserved: { name: "check-uploads", run: checkUploads, after: "uploads-checked" },
  uploaded: { name: "import", run: (ctx) => importBuild(ctx, recheckRequestSize(ctx)), after: "imported" },
};

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
  for (let step = STEP_FOR_STATE[ctx.row.state]; step; step = STEP_FOR_STATE[ctx.row.state]) {
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
