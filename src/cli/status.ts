import { parseArgs } from "node:util";
import { z } from "zod";
import { permanentError } from "../errors.js";
import { getImportDetail } from "../store/queries/import-detail.js";
import { listImports } from "../store/queries/list-imports.js";
import { withOperatorContext } from "./operator-context.js";
import { print, table } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "show one import with its attempts, or the queue and import counts";
const USAGE = "usage: osbuild-koji-importer status [COMPOSE_ID] [--json]";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = usageOnError(USAGE, () =>
    parseArgs({ args: argv, options: { json: { type: "boolean" } }, allowPositionals: true }),
  );
  const json = values.json === true;
  if (positionals.length > 1) throw new UsageError("give at most one compose id", USAGE);
  const composeId = positionals[0];
  if (composeId !== undefined && !z.uuid().safeParse(composeId).success)
    throw new UsageError(`not a compose id: ${composeId}`, USAGE);
  return withOperatorContext(async ({ pool, amqp, names }) => {
    if (composeId) {
      const detail = await getImportDetail(pool, composeId);
      if (!detail) throw permanentError("NOT_FOUND", `no import for compose ${composeId}`);
      const { row, attempts, result_event: result } = detail;
      const shown = {
        compose_id: row.compose_id,
        state: row.state,
        nvr: row.name ? `${row.name}-${row.version}-${row.release}` : null,
        koji_server: row.koji_server,
        koji_build_id: row.koji_build_id,
        attempts: row.attempts,
        last_error: row.last_error,
        updated_at: row.updated_at,
        result_event: result
          ? `${result.message_id} ${result.published ? `published ${result.published_at?.toISOString()}` : "not yet published"}`
          : null,
      };
      print(json, { ...shown, result_event: result, attempt_log: attempts }, () =>
        [
          ...Object.entries(shown).map(
            ([k, v]) => `${k.padEnd(14)} ${v === null ? "-" : v instanceof Date ? v.toISOString() : v}`,
          ),
          "",
          table(attempts as unknown as Array<Record<string, unknown>>, [
            "attempt",
            "step",
            "outcome",
            "error_code",
            "error_message",
          ]),
        ].join("\n"),
      );
      return 0;
    }
    const counts = await pool.query<{ state: string; count: string }>(
      "SELECT state, count(*) FROM imports GROUP BY state ORDER BY state",
    );
    const depths = await amqp.withChannel(async (channel) => ({
      work: (await channel.checkQueue(names.workQueue)).messageCount,
      dead_letter: (await channel.checkQueue(names.deadLetterQueue)).messageCount,
    }));
    const recent = await listImports(pool, { limit: 5 });
    const value = {
      queues: depths,
      imports: Object.fromEntries(counts.rows.map((r) => [r.state, Number(r.count)])),
      recent,
    };
    print(json, value, () =>
      [
        `work queue ${names.workQueue}: ${depths.work} ready; dead letters: ${depths.dead_letter}`,
        `imports: ${counts.rows.map((r) => `${r.state} ${r.count}`).join(", ") || "none"}`,
        "",
        table(recent as unknown as Array<Record<string, unknown>>, [
          "compose_id",
          "state",
          "nvr",
          "koji_build_id",
          "updated_at",
        ]),
      ].join("\n"),
    );
    return 0;
  });
}
