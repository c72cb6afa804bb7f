import pg from "pg";

/** What a store operation runs its SQL on: the pool, or a client inside a transaction or holding a lock. */
export type Db = pg.Pool | pg.PoolClient | pg.Client;

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  // An idle client that loses its server emits 'error' on the pool; without a listener that kills the process.
  pool.on("error", () => undefined);
  return pool;
}

/** Runs `work` in a transaction on `client` (one that is not in a transaction already). */
export async function inTransaction<T>(
  client: pg.PoolClient | pg.Client,
  work: () => Promise<T>,
): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
