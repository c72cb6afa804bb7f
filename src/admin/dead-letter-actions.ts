import type { Logger } from "../log.js";
import type { DeadLetterSummary } from "../queue/dead-letters/describe.js";
import { dropDeadLetters } from "../queue/dead-letters/drop.js";
import { replayDeadLetters } from "../queue/dead-letters/replay.js";
import { type DeadLetterSelection, takeDeadLetters, unmatched } from "../queue/dead-letters/select.js";
import type { TopologyNames } from "../queue/topology.js";
import type { AdminAmqp } from "./amqp.js";

export type DeadLetterAction = "replay" | "drop";

export type DeadLetterActionResult =
  | { outcome: "done"; dryRun: boolean; items: DeadLetterSummary[] }
  | { outcome: "unmatched"; missing: string[] };

/**
 * `dlq replay` / `dlq drop` and their HTTP twins. A selection naming a compose id (or a code) that matches no dead
 * letter is refused before anything moves, so a typo never passes for "done, 0 moved". A dry run reports what
 * would be taken.
 */
export async function actOnDeadLetters(
  amqp: AdminAmqp,
  names: TopologyNames,
  action: DeadLetterAction,
  selection: DeadLetterSelection,
  options: { dryRun: boolean; limit?: number; logger: Logger },
): Promise<DeadLetterActionResult> {
  const limit = options.limit !== undefined ? { limit: options.limit } : {};
  const preview = await amqp.withChannel((channel) =>
    takeDeadLetters(channel, names.deadLetterQueue, selection, {
      dryRun: true,
      act: async () => {},
      ...limit,
    }),
  );
  const missing = unmatched(selection, preview);
  if (missing.length > 0) return { outcome: "unmatched", missing };
  if (options.dryRun) return { outcome: "done", dryRun: true, items: preview };
  const items = await amqp.withChannel((channel) =>
    action === "replay"
      ? replayDeadLetters(channel, names, { ...selectionRequest(selection), ...limit })
      : dropDeadLetters(channel, names.deadLetterQueue, selection, {
          dryRun: false,
          logger: options.logger,
          ...limit,
        }),
  );
  options.logger.info(
    { action, count: items.length, compose_ids: items.map((item) => item.compose_id) },
    action === "replay" ? "dead letters replayed" : "dead letters dropped",
  );
  return { outcome: "done", dryRun: false, items };
}

function selectionRequest(selection: DeadLetterSelection) {
  if ("all" in selection) return { all: true };
  if ("code" in selection) return { code: selection.code };
  return { composeIds: selection.composeIds };
}

/** The answer's shape, the same on the CLI's --json and over HTTP: what moved, or what would. */
export function actionAnswer(action: DeadLetterAction, dryRun: boolean, items: DeadLetterSummary[]) {
  const verb = action === "replay" ? (dryRun ? "would_move" : "moved") : dryRun ? "would_drop" : "dropped";
  return { dry_run: dryRun, [verb]: items } as Record<string, unknown> & { dry_run: boolean };
}

export function unmatchedMessage(selection: DeadLetterSelection, missing: readonly string[]): string {
  const what =
    "code" in selection
      ? `no dead letter has error code ${missing.join(", ")}`
      : `no dead letter for compose ${missing.join(", ")}`;
  return `${what}; nothing was moved or removed`;
}
