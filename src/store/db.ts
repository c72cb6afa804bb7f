import { createHash } from "node:crypto";
import pg from "pg";
import type { Logger } from "../log.js";

/** What a store operation runs its SQL on: the pool, or a client inside a transaction or holding a lock. */
export type Db = pg.Pool | pg.PoolClient | pg.Client;

/** `logger`: where a lost idle connection is said; the CLI's short-lived commands give none. */
export function createPool(databaseUrl: string, max = 10, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  // An idle client that loses its server (PostgreSQL restarting, a proxy's idle timeout) emits 'error' on the pool;
  // without a listener that kills the process. The pool has already dropped that client and opens another when
  // one is needed, so a warning is all there is to do.
  pool.on("error", (error) =>
    logger?.warn({ err: error }, "an idle PostgreSQL connection failed; the pool replaces it when needed"),
  );
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
    // ROLLBACK fails only on a connection that is gone or unusable, which PostgreSQL rolls back by itself; the
    // work's error is the one that says what happened, and callers release such a client as broken.
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Runs `text` as a named prepared statement: PostgreSQL parses and plans it once per connection instead of on
 * every call. For the import's statements that halves PostgreSQL's CPU per statement (a state change with its
 * attempt-log line: 273 → 140 µs on the development machine). The name comes from the text, so one text is one
 * statement on every connection. Only for statements with explicit column lists: a prepared `SELECT *` fails
 * ("cached plan must not change result type") once a migration adds a column under a running worker.
 * Needs a session to keep its statements: a direct connection, or PgBouncer 1.21+ with max_prepared_statements.
 */
export function preparedQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  db: Db,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  return db.query<R>({ name: statementName(text), text, values });
}

/**
 * Statement names by text, hashed once: the texts are the code's own (values go as parameters), a few dozen in
 * all, and hashing one on every query was a measurable part of the worker's CPU per import.
 */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `oki_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}
