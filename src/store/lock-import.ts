import type pg from "pg";
import { preparedQuery } from "./db.js";

/**
 * A session advisory lock per compose, held on its own connection for the whole import: two workers that get
 * the same compose at once never both work on it, and a worker that dies releases the lock with its connection.
 * The key is the compose UUID's first 64 bits, so no table row needs to exist first.
 */
export interface ImportLock {
  client: pg.PoolClient;
  release(): Promise<void>;
}

function lockKey(composeId: string): string {
  return BigInt.asIntN(64, BigInt(`0x${composeId.replace(/-/g, "").slice(0, 16)}`)).toString();
}

export async function tryLockImport(pool: pg.Pool, composeId: string): Promise<ImportLock | undefined> {
  const client = await pool.connect();
  const key = lockKey(composeId);
  try {
    const result = await preparedQuery<{ locked: boolean }>(
      client,
      "SELECT pg_try_advisory_lock($1::bigint) AS locked",
      [key],
    );
    if (!result.rows[0]?.locked) {
      client.release();
      return undefined;
    }
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  return {
    client,
    async release() {
      try {
        await preparedQuery(client, "SELECT pg_advisory_unlock($1::bigint)", [key]);
        client.release();
      } catch (error) {
        // A broken connection releases its locks on the server; drop it from the pool.
        client.release(error as Error);
      }
    },
  };
}
