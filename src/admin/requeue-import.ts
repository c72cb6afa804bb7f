import type pg from "pg";
import { publishConfirmed } from "../queue/confirmed-publish.js";
import { OPERATOR_RETRY_HEADER } from "../queue/delivery.js";
import type { TopologyNames } from "../queue/topology.js";
import { inTransaction } from "../store/db.js";
import { getImport } from "../store/get-import.js";
import type { ImportState } from "../store/import-states.js";
import { guardClient } from "../store/lock-import.js";
import { retryImport } from "../store/queries/retry-import.js";
import type { AdminAmqp } from "./amqp.js";

export type RequeueResult =
  | { outcome: "requeued"; composeId: string }
  | { outcome: "not-found" }
  | { outcome: "conflict"; state: ImportState }
  | { outcome: "broker-unavailable"; message: string };

class NotPublished extends Error {}

/**
 * An operator's retry (HTTP and CLI alike): a failed or refunded import goes back to `received` and its stored
 * event to the work queue. The state change is guarded in SQL, so two operators retrying at once re-queue it
 * once, and it commits only after the broker has confirmed the message: a broker that cannot be reached leaves
 * the import failed, to be retried again, instead of `received` with no message to move it. Should the commit
 * fail after the confirm, the worker reopens the import itself (the message says it is an operator's retry).
 */
export async function requeueImport(
  pool: pg.Pool,
  amqp: AdminAmqp,
  names: TopologyNames,
  composeId: string,
): Promise<RequeueResult> {
  const current = await getImport(pool, composeId);
  if (!current) return { outcome: "not-found" };
  const client = await pool.connect();
  // A connection that breaks while held fails the next statement; without a listener its 'error' event would
  // end the process (the pool listens only to idle clients).
  const guard = guardClient(client);
  try {
    return await inTransaction(client, async (): Promise<RequeueResult> => {
      const row = await retryImport(client, composeId);
      if (!row) return { outcome: "conflict", state: current.state };
      try {
        await amqp.withChannel((channel) =>
          publishConfirmed(channel, "", names.workQueue, Buffer.from(JSON.stringify(row.event)), {
            contentType: "application/json",
            headers: { [OPERATOR_RETRY_HEADER]: true },
          }),
        );
      } catch (error) {
        throw new NotPublished((error as Error).message || String(error));
      }
      return { outcome: "requeued", composeId };
    });
  } catch (error) {
    if (error instanceof NotPublished) return { outcome: "broker-unavailable", message: error.message };
    throw error;
  } finally {
    guard.done();
    client.release(guard.lost.aborted ? new Error("connection lost") : undefined);
  }
}
