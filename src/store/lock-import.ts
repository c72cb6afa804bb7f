import type pg from "pg";
import { preparedQuery } from "./db.js";
import { storeUnavailable } from "./unavailable.js";

/**
 * A session advisory lock per compose, held on its own connection for the whole import: two workers that get
 * the same compose at once never both work on it, and a worker that dies releases the lock with its connection.
 * The key is the compose UUID's first 64 bits, so no table row needs to exist first.
 *
 * The connection can break under the import (PostgreSQL restarted, a failover, the network): the lock went with
 * it, so `lost` aborts, and the import stops rather than go on unlocked. pg emits that as an 'error' event on
 * the client; the pool listens only to idle clients, so without the listener here it would end the process.
 */
export interface ImportLock {
  client: pg.PoolClient;
  /** Aborts (with a STORE_UNAVAILABLE reason) when the connection holding the lock breaks. */
  lost: AbortSignal;
  release(): Promise<void>;
}

function lockKey(composeId: string): string {
  return BigInt.asIntN(64, BigInt(`0x${composeId.replace(/-/g, "").slice(0, 16)}`)).toString();
}

/** Holds a pool client with an 'error' listener until `done` is called; `lost` aborts on the first error. */
export function guardClient(client: pg.PoolClient): { lost: AbortSignal; done(): void } {
  const lost = new AbortController();
  const onError = (error: Error) => {
    if (!lost.signal.aborted) lost.abort(storeUnavailable(error) ?? error);
  };
  client.on("error", onError);
  return { lost: lost.signal, done: () => client.off("error", onError) };
}

export async function tryLockImport(pool: pg.Pool, composeId: string): Promise<ImportLock | undefined> {
  const client = await pool.connect();
  const guard = guardClient(client);
  const key = lockKey(composeId);
  try {
    const result = await preparedQuery<{ locked: boolean }>(
      client,
      "SELECT pg_try_advisory_lock($1::bigint) AS locked",
      [key],
    );
    if (!result.rows[0]?.locked) {
      guard.done();
      client.release();
      return undefined;
    }
  } catch (error) {
    guard.done();
    client.release(error as Error);
    throw error;
  }
  return {
    client,
    lost: guard.lost,
    async release() {
      try {
        if (guard.lost.aborted) throw guard.lost.reason;
        await preparedQuery(client, "SELECT pg_advisory_unlock($1::bigint)", [key]);
        guard.done();
        client.release();
      } catch (error) {
        // A broken connection releases its locks on the server; drop it from the pool.
        guard.done();
        client.release(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}
