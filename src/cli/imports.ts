import { parseArgs } from "node:util";
import { ImportListQuerySchema, listImportPage } from "../admin/import-list.js";
import { IMPORT_STATES } from "../store/import-states.js";
import { withOperatorContext } from "./operator-context.js";
import { parseOptions } from "./parse-options.js";
import { print, table } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "list imports, newest first, with GET /v1/imports's filters and pages";
export const usage = [
  `usage: osbuild-koji-importer imports list [--state ${IMPORT_STATES.join("|")}] [--koji-server URL]`,
  "                                          [--since RFC3339] [--limit N] [--cursor C] [--json]",
  "",
  "--json prints {items, next_cursor} as GET /v1/imports does; pass next_cursor as --cursor for the next page.",
].join("\n");

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = usageOnError(usage, () =>
    parseArgs({
      args: argv,
      options: {
        state: { type: "string" },
        "koji-server": { type: "string" },
        since: { type: "string" },
        limit: { type: "string" },
        cursor: { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
    }),
  );
  if (positionals[0] !== "list" || positionals.length !== 1)
    throw new UsageError("expected: imports list", usage);
  const query = parseOptions(
    ImportListQuerySchema,
    {
      state: values.state,
      koji_server: values["koji-server"],
      since: values.since,
      limit: values.limit,
      cursor: values.cursor,
    },
    usage,
  );
  return withOperatorContext(async ({ pool }) => {
    const page = await listImportPage(pool, query);
    print(values.json === true, page, () =>
      [
        table(
          page.items.map((item) => ({ ...item, last_error: item.last_error?.code ?? null })),
          ["compose_id", "state", "nvr", "koji_build_id", "attempts", "last_error", "updated_at"],
        ),
        ...(page.next_cursor ? ["", `more: imports list --cursor ${page.next_cursor}`] : []),
      ].join("\n"),
    );
    return 0;
  });
}
