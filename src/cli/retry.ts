import { parseArgs } from "node:util";
import { z } from "zod";
import { requeueImport } from "../admin/requeue-import.js";
import { permanentError, retryableError } from "../errors.js";
import { withOperatorContext } from "./operator-context.js";
import { print } from "./table.js";
import { UsageError, usageOnError } from "./usage-error.js";

export const summary = "re-queue a failed or refunded import (retry COMPOSE_ID)";
export const usage = "usage: osbuild-koji-importer retry COMPOSE_ID [--json]";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = usageOnError(usage, () =>
    parseArgs({ args: argv, options: { json: { type: "boolean" } }, allowPositionals: true }),
  );
  const [composeId] = positionals;
  if (positionals.length !== 1 || !z.uuid().safeParse(composeId).success)
    throw new UsageError("give one compose id", usage);
  return withOperatorContext(async ({ pool, amqp, names }) => {
    const result = await requeueImport(pool, amqp, names, composeId as string);
    if (result.outcome === "not-found")
      throw permanentError("NOT_FOUND", `no import for compose ${composeId}`);
    if (result.outcome === "conflict") {
      throw permanentError("CONFLICT", `import ${composeId} is ${result.state}, not failed or refunded`);
    }
    if (result.outcome === "broker-unavailable") {
      throw retryableError(
        "BROKER_UNAVAILABLE",
        `the broker did not take the event (${result.message}); import ${composeId} is unchanged, try again`,
      );
    }
    // The same answer as POST /v1/imports/{id}/retry.
    print(
      values.json === true,
      { compose_id: composeId, state: "received", requeued: true },
      () => `re-queued ${composeId} to ${names.workQueue}`,
    );
    return 0;
  });
}
