import { parseArgs } from "node:util";
import { z } from "zod";
import { listImportPage } from "../admin/import-list.js";
import { type AttemptView, type ImportDetailView, importDetailView } from "../admin/import-view.js";
import { dependencyFailure } from "../dependency-failure.js";
import { permanentError } from "../errors.js";
import { type QueueDepth, queueDepths } from "../queue/queue-depths.js";
import { getImportDetail } from "../store/queries/import-detail.js";
import { type OperatorContext, withOperatorContext } from "./operator-context.js";
import { print, table } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "show one import with its attempts, or the queue depths and import counts";
export const usage = [
  "usage: osbuild-koji-importer status [COMPOSE_ID] [--json]",
  "",
  "With a compose id: the import (as GET /v1/imports/{id} shows it) and its attempt log.",
  "Without: import counts by state, the latest imports, and the depth of every queue; when RabbitMQ is down the",
  "database part is still shown and the exit code is 1.",
].join("\n");

/** A message longer than this is cut in the attempt table; the whole text is on the `last_error` line. */
const TABLE_MESSAGE_WIDTH = 100;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = usageOnError(usage, () =>
    parseArgs({ args: argv, options: { json: { type: "boolean" } }, allowPositionals: true }),
  );
  const json = values.json === true;
  if (positionals.length > 1) throw new UsageError("give at most one compose id", usage);
  const composeId = positionals[0];
  if (composeId !== undefined && !z.uuid().safeParse(composeId).success)
    throw new UsageError(`invalid COMPOSE_ID: not a compose id: ${composeId}`, usage);
  return withOperatorContext((ctx) => (composeId ? showImport(ctx, composeId, json) : overview(ctx, json)));
}

async function showImport({ pool }: OperatorContext, composeId: string, json: boolean): Promise<number> {
  const detail = await getImportDetail(pool, composeId);
  if (!detail) throw permanentError("NOT_FOUND", `no import for compose ${composeId}`);
  const view = importDetailView(detail.row, detail.attempts, detail.result_event);
  print(json, view, () => describeImport(view));
  return 0;
}

function describeImport(view: ImportDetailView): string {
  const { attempt_log: attempts, last_error: lastError, result_event: result, ...fields } = view;
  const lines = Object.entries(fields).map(([key, value]) => `${key.padEnd(16)} ${value ?? "-"}`);
  const published = result?.published ? `published ${result.published_at}` : "not yet published";
  lines.push(
    `${"result_event".padEnd(16)} ${result ? `${result.message_id} ${result.state}, ${published}` : "-"}`,
  );
  lines.push(
    `${"last_error".padEnd(16)} ${lastError ? `${lastError.code ?? "-"}: ${lastError.message}` : "-"}`,
  );
  return [...lines, "", table(attemptRows(attempts), ["attempt", "step", "outcome", "code", "message"])].join(
    "\n",
  );
}

/**
 * The attempt log as table rows. A retried failure repeats its message on every attempt (a list of missing
 * uploads, say): the table shows it once and points back to it after that, cut to one screen line.
 */
function attemptRows(attempts: readonly AttemptView[]): Array<Record<string, unknown>> {
  const firstSeen = new Map<string, number>();
  return attempts.map((entry) => {
    const message = entry.error?.message ?? null;
    let shown: string | null = message;
    if (message !== null) {
      const earlier = firstSeen.get(message);
      if (earlier !== undefined) shown = `(as attempt ${earlier})`;
      else {
        firstSeen.set(message, entry.attempt);
        if (message.length > TABLE_MESSAGE_WIDTH) shown = `${message.slice(0, TABLE_MESSAGE_WIDTH - 1)}…`;
      }
    }
    return { ...entry, code: entry.error?.code ?? null, message: shown };
  });
}

async function overview({ pool, amqp, names }: OperatorContext, json: boolean): Promise<number> {
  const counts = await pool.query<{ state: string; count: string }>(
    "SELECT state, count(*) FROM imports GROUP BY state ORDER BY state",
  );
  const imports = Object.fromEntries(counts.rows.map((r) => [r.state, Number(r.count)]));
  const recent = (await listImportPage(pool, { limit: 5 })).items;
  // The database part stands on its own: a broker that is down is reported beside it, not instead of it.
  let queues: QueueDepth[] | null = null;
  let brokerError: string | null = null;
  try {
    queues = await queueDepths(amqp, names);
  } catch (error) {
    const failure = dependencyFailure(error);
    if (!failure) throw error;
    brokerError = failure.message;
  }
  print(json, { imports, recent, queues, broker_error: brokerError }, () =>
    [
      `imports: ${counts.rows.map((r) => `${r.state} ${r.count}`).join(", ") || "none"}`,
      "",
      table(recent, ["compose_id", "state", "nvr", "koji_build_id", "updated_at"]),
      "",
      queues
        ? table(
            queues.map((q) => ({ ...q, messages: q.messages ?? "not declared" })),
            ["queue", "role", "messages"],
          )
        : "queues: unknown (RabbitMQ unavailable)",
    ].join("\n"),
  );
  if (brokerError) {
    process.stderr.write(`status: ${brokerError}\n`);
    return 1;
  }
  return 0;
}
