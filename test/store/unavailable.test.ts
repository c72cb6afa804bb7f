import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryableError } from "../../src/errors.js";
import { storeUnavailable } from "../../src/store/unavailable.js";
import { closedPort } from "../support/closed-port.js";
import { createTestDatabase, runPrefix, type TestDatabase } from "../support/servers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase("unavailable");
});

afterAll(async () => {
  await database.drop();
});

/** What pg throws for `work`, from the real server (or the real socket). */
async function thrownBy(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe("storeUnavailable", () => {
  it("names a refused connection, a missing database and a terminated session as STORE_UNAVAILABLE", async () => {
    const refused = new URL(database.url);
    refused.port = String(await closedPort());
    const missing = new URL(database.url);
    missing.pathname = `/${runPrefix("absent").toLowerCase()}`;
    const failures = [
      await thrownBy(() => withClient(refused.toString(), async () => undefined)),
      await thrownBy(() => withClient(missing.toString(), async () => undefined)),
      await thrownBy(() =>
        withClient(database.url, async (client) => {
          await client.query("SELECT pg_terminate_backend(pg_backend_pid())");
        }),
      ),
    ];
    const classified = failures.map((failure) => storeUnavailable(failure));
    expect(classified.map((error) => [error?.code, error?.retryable])).toEqual([
      ["STORE_UNAVAILABLE", true],
      ["STORE_UNAVAILABLE", true],
      ["STORE_UNAVAILABLE", true],
    ]);
    expect(classified[0]?.message).toMatch(/^PostgreSQL unavailable: .*ECONNREFUSED/);
    expect(classified[1]?.message).toContain("does not exist");
    expect(classified[2]?.message).toContain("terminating connection");
  });

  it("leaves wrong statements and constraint violations alone", async () => {
    const failures = await withClient(database.url, async (client) => [
      await thrownBy(() => client.query("SELEC 1")),
      await thrownBy(async () => {
        await client.query("CREATE TEMP TABLE t (id int PRIMARY KEY)");
        await client.query("INSERT INTO t VALUES (1), (1)");
      }),
    ]);
    expect(failures.map((failure) => (failure as { code?: string }).code)).toEqual(["42601", "23505"]);
    expect(failures.map((failure) => storeUnavailable(failure))).toEqual([undefined, undefined]);
    expect(storeUnavailable(new Error("something else"))).toBeUndefined();
    // Another adapter's error keeps its own class, whatever its message reads like.
    const koji = retryableError("KOJI_UNREACHABLE", "koji: Connection terminated by the hub", {
      cause: new Error("ECONNRESET"),
    });
    expect(storeUnavailable(koji)).toBeUndefined();
    expect(storeUnavailable("not an error")).toBeUndefined();
  });
});
