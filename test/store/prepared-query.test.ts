import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, preparedQuery } from "../../src/store/db.js";
import { createTestDatabase, type TestDatabase } from "../support/servers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase("prepared");
});

afterAll(async () => {
  await database.drop();
});

describe("preparedQuery", () => {
  it("prepares a text once per connection under a name taken from the text, and runs it again by name", async () => {
    const pool = createPool(database.url, 1);
    try {
      const client = await pool.connect();
      try {
        const first = await preparedQuery<{ n: number }>(client, "SELECT $1::int + 1 AS n", [1]);
        const again = await preparedQuery<{ n: number }>(client, "SELECT $1::int + 1 AS n", [41]);
        const other = await preparedQuery<{ n: number }>(client, "SELECT $1::int + 2 AS n", [1]);
        expect([first.rows[0]?.n, again.rows[0]?.n, other.rows[0]?.n]).toEqual([2, 42, 3]);
        const prepared = await client.query<{ name: string; statement: string }>(
          "SELECT name, statement FROM pg_prepared_statements ORDER BY statement",
        );
        expect(prepared.rows).toEqual([
          { name: expect.stringMatching(/^oki_[0-9a-f]{24}$/), statement: "SELECT $1::int + 1 AS n" },
          { name: expect.stringMatching(/^oki_[0-9a-f]{24}$/), statement: "SELECT $1::int + 2 AS n" },
        ]);
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});
