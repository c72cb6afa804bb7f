import type pg from "pg";
import { publishConfirmed } from "../queue/confirmed-publish.js";
import type { TopologyNames } from "../queue/topology.js";
import { getImport } from "../store/get-import.js";
import type { ImportState } from "../store/import-states.js";
import { retryImport } from "../store/queries/retry-import.js";
import type { AdminAmqp } from "./amqp.js";

export type RequeueResult =
  | { outcome: "requeued"; composeId: string }
  | { outcome: "not-found" }
  | { outcome: "conflict"; state: ImportState };

/**
 * An operator's retry (HTTP and CLI alike): a failed or refunded import goes back to `received` and its stored
 * event to the work queue, confirmed by the broker. The state change is guarded in SQL, so two operators
 * retrying at once re-queue it once.
 */
export async function requeueImport(
  pool: pg.Pool,
  amqp: AdminAmqp,
  names: TopologyNames,
  composeId: string,
): Promise<RequeueResult> {
  const current = await getImport(pool, composeId);
  if (!current) return { outcome: "not-found" };
  const row = await retryImport(pool, composeId);
  if (!row) return { outcome: "conflict", state: current.state };
  await amqp.withChannel((channel) =>
    publishConfirmed(channel, "", names.workQueue, Buffer.from(JSON.stringify(row.event)), {
      contentType: "application/json",
      headers: { "x-operator-retry": true },
    }),
  );
  return { outcome: "requeued", composeId };
}
