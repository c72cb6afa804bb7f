import { parseArgs } from "node:util";
import { z } from "zod";
import { IMPORT_STATES } from "../store/import-states.js";
import { listImports } from "../store/queries/list-imports.js";
import { withOperatorContext } from "./operator-context.js";
import { print, table } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "list imports, newest first (imports list [--state S] [--limit N] [--json])";
const USAGE = `usage: osbuild-koji-importer imports list [--state ${IMPORT_STATES.join("|")}] [--limit N] [--json]`;

export async function run(argv: string[]): Promise<number> {
  const parsed = usageOnError(USAGE, () =>
    parseArgs({
      args: argv,
      options: { state: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } },
      allowPositionals: true,
    }),
  );
  const { values, positionals } = parsed;
  if (positionals[0] !== "list" || positionals.length !== 1)
    throw new UsageError("expected: imports list", USAGE);
  const state = z.enum(IMPORT_STATES).optional().safeParse(values.state);
  if (!state.success) throw new UsageError(`--state: not a state: ${values.state}`, USAGE);
  const limit = z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .safeParse(values.limit ?? "50");
  if (!limit.success) throw new UsageError("--limit: a number from 1 to 500", USAGE);
  return withOperatorContext(async ({ pool }) => {
    const rows = await listImports(pool, { ...(state.data ? { state: state.data } : {}), limit: limit.data });
    print(values.json === true, rows, () =>
      table(rows as unknown as Array<Record<string, unknown>>, [
        "compose_id",
        "state",
        "nvr",
        "koji_build_id",
        "attempts",
        "last_error_code",
        "updated_at",
      ]),
    );
    return 0;
  });
}
