import { SpanStatusCode, trace } from "@opentelemetry/api";
import type pg from "pg";
import type { ComposerClient } from "../composer/client.js";
import { ImporterError, permanentError, retryableError, toImporterError } from "../errors.js";
import type { KojiClient } from "../koji/client.js";
import type { KojiHubs } from "../koji/hubs.js";
import { type Logger, logError } from "../log.js";
import type { Metrics } from "../metrics.js";
import { type Delivery, type DeliveryControl, type Outcome, replaysOf } from "../queue/delivery.js";
import {
  type ComposeFinishedEvent,
  composeIdOfBody,
  type KojiComposeFinishedEvent,
  parseEventBody,
} from "../schemas/event.js";
import { recordStep, startAttempt } from "../store/attempts.js";
import { findImportedNvr } from "../store/find-imported-nvr.js";
import { markFailed, markImported, noteRetryableError } from "../store/import-result.js";
import { FINAL_STATES, RETRYABLE_BY_OPERATOR } from "../store/import-states.js";
import { tryLockImport } from "../store/lock-import.js";
import { retryImport } from "../store/queries/retry-import.js";
import { recordEvent } from "../store/record-event.js";
import { storeUnavailable } from "../store/unavailable.js";
import { contextFromHeaders, errorAttributes } from "../telemetry/spans.js";
import { tracer } from "../telemetry/tracing.js";
import type { ArchiveTypeCache } from "./archive-types.js";
import { advance, type ImportContext, type PipelineSettings } from "./context.js";
import { crashPoint } from "./crash-hook.js";
import { gaveUp, shouldRetry } from "./decide.js";
import { asksToRunAgain, recordedFailure } from "./failed-import.js";
import { runImport, StepError } from "./run-import.js";
import {
  currentReservation,
  giveBackOrFindImported,
  giveBackReservation,
  reservationToGiveBack,
} from "./steps/refund.js";

export interface PipelineDeps {
  pool: pg.Pool;
  hubs: KojiHubs;
  composer: ComposerClient;
  archiveTypes: ArchiveTypeCache;
  settings: PipelineSettings;
  metrics: Metrics;
  logger: Logger;
  /** Called once an import's final state (and with it its result event) is committed: the relay's wake-up. */
  onResult?: () => void;
  /** Told when a delivery met an unreachable database, so the worker pauses consuming until it is back. */
  onStoreUnavailable?: (error: ImporterError) => void;
}

function countDeadLetter(deps: PipelineDeps, error: ImporterError): void {
  deps.metrics.eventsConsumed.inc({ outcome: "dead_lettered" });
  deps.metrics.deadLettered.inc({ code: error.code });
}

/** Adapters classify their own errors; what reaches here unclassified is a database outage or unexpected. */
function classify(thrown: unknown): ImporterError {
  return storeUnavailable(thrown) ?? toImporterError(thrown);
}

/**
 * One delivery of a compose-finished event, start to finish: validate, record, lock, run the import's steps,
 * and turn the result into the queue Outcome. Retry or give up is decided once, here, from the error's class.
 */
export function createDeliveryHandler(
  deps: PipelineDeps,
): (delivery: Delivery, control?: DeliveryControl) => Promise<Outcome> {
  return (delivery, control = NEVER_STOPPING) =>
    // One trace per attempt, under the publisher's own when the message carries a `traceparent` header.
    tracer().startActiveSpan(
      "import attempt",
      { attributes: { "messaging.system": "rabbitmq", "importer.attempt": delivery.attempt } },
      contextFromHeaders(delivery.headers),
      async (span) => {
        let outcome: Outcome;
        try {
          outcome = await deliver(deps, delivery, control);
        } catch (thrown) {
          const error = classify(thrown);
          outcome = giveBack(deps, delivery, control, error) ?? giveUpOrRetry(deps, delivery, error);
        }
        span.setAttribute("importer.outcome", outcome.action);
        if (outcome.action === "retry" || outcome.action === "dead-letter") {
          span.setAttributes(errorAttributes(outcome.error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
        }
        span.end();
        return outcome;
      },
    );
}

const NEVER_STOPPING: DeliveryControl = {
  stopping: new AbortController().signal,
  abort: new AbortController().signal,
};

/**
 * A failure that says nothing about the import, which therefore spends no attempt: the process is stopping (the
 * event goes back to the work queue for another worker, as after a crash but at once), or PostgreSQL cannot be
 * reached (the event goes back and the worker pauses until the database answers again, instead of burning
 * the event's attempts into the dead-letter queue). Undefined for any other failure.
 */
function giveBack(
  deps: PipelineDeps,
  delivery: Delivery,
  control: DeliveryControl,
  error: ImporterError,
  lockLost?: AbortSignal,
): Outcome | undefined {
  const composeId = composeIdOfBody(delivery.body, deps.settings.maxEventBytes);
  const logger = deps.logger.child({ compose_id: composeId });
  if (error.code === "STORE_UNAVAILABLE" || lockLost?.aborted) {
    deps.onStoreUnavailable?.(error);
    logger.warn({ err: error, attempt: delivery.attempt }, "database unavailable; event given back");
    return { action: "requeue", reason: error.message, composeId };
  }
  if (control.stopping.aborted) {
    logger.info({ err: error }, "stopping; event given back");
    return { action: "requeue", reason: "the worker is stopping", composeId };
  }
  return undefined;
}

/**
 * What escaped the import's own handling: the store unreachable (PostgreSQL down, failing over), or a bug. The
 * attempt limit bounds it like any other retry, so a failure that repeats forever ends in the dead-letter
 * queue, where an SRE sees it, instead of circling the retry queues unseen.
 */
function giveUpOrRetry(deps: PipelineDeps, delivery: Delivery, error: ImporterError): Outcome {
  const composeId = composeIdOfBody(delivery.body, deps.settings.maxEventBytes);
  const logger = deps.logger.child({ compose_id: composeId });
  if (shouldRetry(error, delivery.attempt, deps.settings)) {
    deps.metrics.retries.inc({ step: "unknown", code: error.code });
    deps.metrics.eventsConsumed.inc({ outcome: "retried" });
    logger.warn({ ...logError(error), attempt: delivery.attempt }, "delivery failed; will retry");
    return { action: "retry", error, composeId };
  }
  const failure = gaveUp(error, delivery.attempt);
  countDeadLetter(deps, failure);
  logger.error({ ...logError(failure), attempt: delivery.attempt }, "delivery failed; dead-lettered");
  return { action: "dead-letter", error: failure, composeId };
}

async function deliver(deps: PipelineDeps, delivery: Delivery, control: DeliveryControl): Promise<Outcome> {
  let event: ComposeFinishedEvent;
  try {
    event = parseEventBody(delivery.body, deps.settings.maxEventBytes);
  } catch (error) {
    const failure = toImporterError(error);
    const composeId = composeIdOfBody(delivery.body, deps.settings.maxEventBytes);
    deps.metrics.eventsConsumed.inc({ outcome: "invalid" });
    deps.metrics.deadLettered.inc({ code: failure.code });
    deps.logger.warn({ ...logError(failure), compose_id: composeId }, "invalid event dead-lettered");
    return { action: "dead-letter", error: failure, composeId };
  }
  trace.getActiveSpan()?.setAttribute("importer.compose_id", event.compose_id);
  const logger = deps.logger.child({ compose_id: event.compose_id });
  const { row } = await recordEvent(deps.pool, event);
  if (row.state === "ignored") {
    deps.metrics.eventsConsumed.inc({ outcome: "ignored" });
    logger.info("not a Koji compose; ignored");
    return { action: "ack" };
  }
  if (RETRYABLE_BY_OPERATOR.has(row.state)) {
    if (!asksToRunAgain(delivery)) {
      const error = recordedFailure(row);
      countDeadLetter(deps, error);
      logger.warn({ state: row.state, ...logError(error) }, "import already failed; dead-lettered again");
      return { action: "dead-letter", error, composeId: event.compose_id };
    }
    // Nothing to reopen when a copy of the same request, or the operator's own retry, got there first; the
    // attempt reads the row again under the lock either way.
    await retryImport(deps.pool, event.compose_id);
    logger.info(
      { state: row.state, replays: replaysOf(delivery.headers) },
      "asked to run again; import reopened",
    );
  } else if (FINAL_STATES.has(row.state)) {
    deps.metrics.eventsConsumed.inc({ outcome: "duplicate" });
    logger.info({ state: row.state }, "import already finished; nothing to do");
    return { action: "ack" };
  }
  crashPoint("recorded");
  deps.metrics.importsInFlight.inc();
  try {
    return await importCompose(deps, event as KojiComposeFinishedEvent, delivery, control, logger);
  } finally {
    deps.metrics.importsInFlight.dec();
  }
}

async function importCompose(
  deps: PipelineDeps,
  event: KojiComposeFinishedEvent,
  delivery: Delivery,
  control: DeliveryControl,
  logger: Logger,
): Promise<Outcome> {
  const composeId = event.compose_id;
  const lock = await tryLockImport(deps.pool, composeId);
  if (!lock) {
    // Another worker has this compose right now; by the retry it will have finished and this one acks.
    logger.info("another worker is importing this compose; retrying later");
    return {
      action: "retry",
      error: retryableError("IMPORT_BUSY", "another worker is importing this compose"),
      composeId,
    };
  }
  // Read again under the lock: another worker may have moved the import on since the event was recorded.
  let row: Awaited<ReturnType<typeof startAttempt>>;
  try {
    row = await startAttempt(lock.client, composeId);
  } catch (error) {
    await lock.release();
    throw error;
  }
  if (!row) {
    await lock.release();
    // An operator deleted the row after the event was recorded; the retry records it anew.
    throw retryableError("STORE_ROW_VANISHED", `import ${composeId} vanished after it was recorded`);
  }
  const signal = AbortSignal.any([control.abort, lock.lost]);
  // Built whole once the import has its Koji client; a failure before that settles without it.
  let ctx: ImportContext | undefined;
  try {
    if (FINAL_STATES.has(row.state)) return { action: "ack" };
    const conflict = await findImportedNvr(lock.client, composeId, {
      server: event.koji.server,
      name: event.koji.name,
      version: event.koji.version,
      release: event.koji.release,
    });
    if (conflict) {
      throw new StepError(
        "record",
        permanentError(
          "IMPORT_NVR_CONFLICT",
          `NVR ${event.koji.name}-${event.koji.version}-${event.koji.release} was already imported from compose ${conflict.compose_id} (build ${conflict.koji_build_id})`,
        ),
      );
    }
    ctx = {
      composeId,
      event,
      signal,
      stopping: control.stopping,
      db: lock.client,
      pool: deps.pool,
      koji: await kojiClient(deps.hubs, event.koji.server, signal),
      composer: deps.composer,
      archiveTypes: deps.archiveTypes,
      settings: deps.settings,
      metrics: deps.metrics,
      logger,
      attempt: row.attempts,
      // runImport gives each step its own line; until the first starts, the attempt is the event's recording.
      stepLog: { attempt: row.attempts, step: "record", startedAt: new Date() },
      row,
    };
    await runImport(ctx, (step, ms) => deps.metrics.stepDuration.observe({ step }, ms / 1000));
    deps.onResult?.();
    deps.metrics.eventsConsumed.inc({ outcome: ctx.row.state === "imported" ? "imported" : ctx.row.state });
    deps.metrics.importsFinished.inc({ state: ctx.row.state, code: "" });
    if (ctx.row.state === "imported") deps.metrics.lastImportSuccess.setToCurrentTime();
    return { action: "ack" };
  } catch (thrown) {
    const step = thrown instanceof StepError ? thrown.step : "unknown";
    const error = classify(thrown instanceof StepError ? thrown.error : thrown);
    const failed = { composeId, db: lock.client, logger, attempt: row.attempts, ctx };
    return (
      giveBack(deps, delivery, control, error, lock.lost) ??
      (await settleFailure(deps, failed, delivery, step, error))
    );
  } finally {
    await lock.release();
  }
}

/** The hub's client for this import, its calls abandoned with the import; a hub not to be had fails "record". */
async function kojiClient(hubs: KojiHubs, server: string, signal: AbortSignal): Promise<KojiClient> {
  try {
    return (await hubs.client(server)).withSignal(signal);
  } catch (error) {
    throw new StepError("record", error);
  }
}

/**
 * The attempt whose failure is being settled. `ctx` is there once the import has its Koji client; a failure
 * before that (an NVR imported already, a hub that is not configured) has nothing it could give back.
 */
interface FailedAttempt {
  composeId: string;
  db: pg.PoolClient;
  logger: Logger;
  attempt: number;
  ctx: ImportContext | undefined;
}

/**
 * The failure turned out to be no failure: Koji has this import's reservation COMPLETE (an earlier CGImport of
 * it committed while this try failed). Recorded imported, the build id with it, and acked.
 */
async function recordFoundImported(
  deps: PipelineDeps,
  ctx: ImportContext,
  buildId: number,
  error: ImporterError,
): Promise<Outcome> {
  advance(ctx, await markImported(ctx.db, ctx.composeId, buildId));
  deps.onResult?.();
  deps.metrics.eventsConsumed.inc({ outcome: "imported" });
  deps.metrics.importsFinished.inc({ state: "imported" });
  ctx.logger.info(
    { koji_build_id: buildId, cause: error.message },
    "import recorded: Koji has this import's build COMPLETE",
  );
  return { action: "ack" };
}

async function settleFailure(
  deps: PipelineDeps,
  failed: FailedAttempt,
  delivery: Delivery,
  step: string,
  error: ImporterError,
): Promise<Outcome> {
  const { composeId, db, logger, ctx } = failed;
  // A line the attempt log could not take does not stop the failure being settled, but it is said: that log is
  // where a person looks first.
  await recordStep(db, { composeId, attempt: failed.attempt, step, startedAt: new Date(), error }).catch(
    (recordError: unknown) =>
      logger.warn(
        { step, ...logError(classify(recordError)), failure: error.code },
        "could not write the failed step to the attempt log",
      ),
  );
  if (shouldRetry(error, delivery.attempt, deps.settings)) {
    await noteRetryableError(db, composeId, error);
    deps.metrics.retries.inc({ step, code: error.code });
    deps.metrics.eventsConsumed.inc({ outcome: "retried" });
    logger.warn({ step, ...logError(error), attempt: delivery.attempt }, "import step failed; will retry");
    return { action: "retry", error, composeId };
  }
  // Giving up: a reservation is given back first so no build stays BUILDING. A refund that fails in a way a
  // retry may cure is retried while attempts remain (the failure repeats, the refund is tried again); past
  // that the import ends failed, its reason naming the reservation left for a person.
  let refunded = false;
  let failure = gaveUp(error, delivery.attempt);
  // Its own reservation may turn out imported after all; composer's, taken back before the importer had its
  // own, cannot have been.
  const own = ctx && currentReservation(ctx);
  const reservation = ctx && reservationToGiveBack(ctx);
  if (ctx && reservation) {
    try {
      const given = own
        ? await giveBackOrFindImported(ctx, own)
        : (await giveBackReservation(ctx, reservation))
          ? "refunded"
          : "none";
      if (given === "imported") return await recordFoundImported(deps, ctx, reservation.buildId, error);
      refunded = given === "refunded";
    } catch (refundError) {
      const refundFailure = classify(refundError);
      if (shouldRetry(refundFailure, delivery.attempt, deps.settings)) {
        logger.error(
          { step, err: refundFailure, cause: error.message },
          "could not refund the reservation; will retry",
        );
        return { action: "retry", error: refundFailure, composeId };
      }
      failure = new ImporterError(
        error.errorClass,
        error.code,
        `${failure.message}; the reservation (Koji build ${reservation.buildId}) could not be refunded: ${refundFailure.message}`,
        { details: error.details, cause: error },
      );
    }
  }
  await markFailed(
    db,
    composeId,
    failure,
    refunded ? "refunded" : "failed",
    undefined,
    refunded ? reservation?.buildId : undefined,
  );
  crashPoint("failure-recorded");
  deps.onResult?.();
  deps.metrics.importsFinished.inc({ state: refunded ? "refunded" : "failed", code: failure.code });
  countDeadLetter(deps, failure);
  logger.error({ step, ...logError(failure), refunded }, "import failed; dead-lettered");
  return { action: "dead-letter", error: failure, composeId };
}
