import { parseArgs } from "node:util";
import { z } from "zod";
import {
  actionAnswer,
  actOnDeadLetters,
  type DeadLetterAction,
  unmatchedMessage,
} from "../admin/dead-letter-actions.js";
import { loadConfig } from "../config/load.js";
import { permanentError } from "../errors.js";
import { createLogger } from "../log.js";
import type { DeadLetterSummary } from "../queue/dead-letters/describe.js";
import { peekDeadLetters } from "../queue/dead-letters/peek.js";
import type { DeadLetterSelection } from "../queue/dead-letters/select.js";
import { withOperatorContext } from "./operator-context.js";
import { print, table } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "dead letters: dlq list | dlq replay | dlq drop";
export const usage = [
  "usage: osbuild-koji-importer dlq list [--limit N] [--json]",
  "       osbuild-koji-importer dlq replay (--all | --code CODE | COMPOSE_ID...) [--dry-run] [--json]",
  "       osbuild-koji-importer dlq drop (--code CODE | COMPOSE_ID...) (--yes | --dry-run) [--json]",
  "",
  "list shows each message's id and body (cut to a screen line; with --json its first 64 KiB, and its size); the messages stay queued.",
  "replay moves them back to the work queue; drop removes poison letters for good, each logged in full first",
  "(on stderr), and only with --yes. A compose id or code that matches no dead letter is an error.",
].join("\n");

const COLUMNS = [
  "compose_id",
  "message_id",
  "error_code",
  "attempts",
  "last_failure_at",
  "replayed",
  "reason",
  "body",
];
/** Table cells are cut to this; `--json` has the whole text. */
const CELL_WIDTH = 60;

const cut = (text: string | null) =>
  text !== null && text.length > CELL_WIDTH ? `${text.slice(0, CELL_WIDTH - 1)}…` : text;

function rows(items: readonly DeadLetterSummary[]) {
  return items.map((item) => ({
    ...item,
    reason: cut(item.reason),
    body: cut(item.body.replace(/\s+/g, " ")),
  }));
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = usageOnError(usage, () =>
    parseArgs({
      args: argv,
      options: {
        all: { type: "boolean" },
        code: { type: "string" },
        "dry-run": { type: "boolean" },
        yes: { type: "boolean" },
        limit: { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
    }),
  );
  const [action, ...ids] = positionals;
  const json = values.json === true;
  if (action === "list" && ids.length === 0) {
    const limit = z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .safeParse(values.limit ?? "100");
    if (!limit.success) throw new UsageError("invalid --limit: a number from 1 to 1000", usage);
    return withOperatorContext(async ({ amqp, names }) => {
      const items = await amqp.withChannel((channel) =>
        peekDeadLetters(channel, names.deadLetterQueue, limit.data),
      );
      // The same shape as GET /v1/dead-letters.
      print(json, { items }, () => table(rows(items), COLUMNS));
      return 0;
    });
  }
  if (action !== "replay" && action !== "drop")
    throw new UsageError("expected: dlq list | dlq replay | dlq drop", usage);
  const selection = selectionOf(action, values, ids);
  const dryRun = values["dry-run"] === true;
  if (action === "drop" && !dryRun && values.yes !== true) {
    throw new UsageError(
      "dlq drop removes dead letters for good: add --yes (or --dry-run to see them)",
      usage,
    );
  }
  return act(action, selection, dryRun, json);
}

function selectionOf(
  action: DeadLetterAction,
  values: { all?: boolean; code?: string },
  ids: readonly string[],
): DeadLetterSelection {
  const given = [values.all === true, values.code !== undefined, ids.length > 0].filter(Boolean).length;
  const choices = action === "replay" ? "--all, --code CODE or compose ids" : "--code CODE or compose ids";
  if (given !== 1) throw new UsageError(`give one of ${choices}`, usage);
  if (values.all === true) {
    if (action === "drop")
      throw new UsageError("dlq drop takes --code CODE or compose ids, never --all", usage);
    return { all: true };
  }
  if (values.code !== undefined) return { code: values.code };
  const bad = ids.find((id) => !z.uuid().safeParse(id).success);
  if (bad) throw new UsageError(`invalid COMPOSE_ID: not a compose id: ${bad}`, usage);
  return { composeIds: ids };
}

async function act(
  action: DeadLetterAction,
  selection: DeadLetterSelection,
  dryRun: boolean,
  json: boolean,
): Promise<number> {
  // Log lines (each dropped letter in full) go to stderr, so stdout stays the command's answer.
  const logger = createLogger(loadConfig().LOG_LEVEL, process.stderr);
  return withOperatorContext(async ({ amqp, names }) => {
    const result = await actOnDeadLetters(amqp, names, action, selection, { dryRun, logger });
    if (result.outcome === "unmatched") {
      throw permanentError("NOT_FOUND", unmatchedMessage(selection, result.missing));
    }
    const verb =
      action === "replay"
        ? dryRun
          ? `would move ${result.items.length} message(s) to ${names.workQueue}`
          : `moved ${result.items.length} message(s) to ${names.workQueue}`
        : dryRun
          ? `would remove ${result.items.length} message(s); add --yes to remove them`
          : `removed ${result.items.length} message(s) from ${names.deadLetterQueue}`;
    print(json, actionAnswer(action, dryRun, result.items), () =>
      [verb, table(rows(result.items), COLUMNS)].join("\n"),
    );
    return 0;
  });
}
