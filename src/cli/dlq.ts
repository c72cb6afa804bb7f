import { parseArgs } from "node:util";
import { z } from "zod";
import { peekDeadLetters } from "../queue/dead-letters/peek.js";
import { replayDeadLetters } from "../queue/dead-letters/replay.js";
import { withOperatorContext } from "./operator-context.js";
import { print, table } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "dead letters: dlq list | dlq replay (--all | COMPOSE_ID...) [--dry-run]";
export const usage =
  "usage: osbuild-koji-importer dlq list [--limit N] [--json]\n       osbuild-koji-importer dlq replay (--all | COMPOSE_ID...) [--dry-run] [--json]";
const COLUMNS = ["compose_id", "error_code", "attempts", "last_failure_at", "replayed", "reason"];

export async function run(argv: string[]): Promise<number> {
  const parsed = usageOnError(usage, () =>
    parseArgs({
      args: argv,
      options: {
        all: { type: "boolean" },
        "dry-run": { type: "boolean" },
        limit: { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
    }),
  );
  const { values, positionals } = parsed;
  const [action, ...ids] = positionals;
  const json = values.json === true;
  if (action === "list" && ids.length === 0) {
    const limit = z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .safeParse(values.limit ?? "100");
    if (!limit.success) throw new UsageError("--limit: a number from 1 to 1000", usage);
    return withOperatorContext(async ({ amqp, names }) => {
      const items = await amqp.withChannel((channel) =>
        peekDeadLetters(channel, names.deadLetterQueue, limit.data),
      );
      print(json, items, () => table(items as unknown as Array<Record<string, unknown>>, COLUMNS));
      return 0;
    });
  }
  if (action === "replay") {
    if (values.all === true && ids.length > 0)
      throw new UsageError("give --all or compose ids, not both", usage);
    if (values.all !== true && ids.length === 0) throw new UsageError("give --all or compose ids", usage);
    const bad = ids.find((id) => !z.uuid().safeParse(id).success);
    if (bad) throw new UsageError(`not a compose id: ${bad}`, usage);
    const dryRun = values["dry-run"] === true;
    return withOperatorContext(async ({ amqp, names }) => {
      const moved = await amqp.withChannel((channel) =>
        replayDeadLetters(channel, names, { composeIds: ids, all: values.all === true, dryRun }),
      );
      print(json, { dry_run: dryRun, moved }, () =>
        [
          `${dryRun ? "would move" : "moved"} ${moved.length} message(s) to ${names.workQueue}`,
          table(moved as unknown as Array<Record<string, unknown>>, COLUMNS),
        ].join("\n"),
      );
      return 0;
    });
  }
  throw new UsageError("expected: dlq list | dlq replay", usage);
}
