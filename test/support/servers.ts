import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

/** A short random tag, unique per test file run, for database, exchange and queue names on the shared servers. */
export function runPrefix(label = "t"): string {
  return `oki_${label}_${process.pid}_${randomBytes(3).toString("hex")}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database of its own for one test file; `drop()` in afterAll removes it. */
export async function createTestDatabase(
  label = "db",
  /** A cluster of the test's own (private-postgres.ts); the shared one otherwise. */
  adminUrl: string = inject("databaseUrl"),
): Promise<TestDatabase> {
  const name = runPrefix(label).toLowerCase();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function testAmqpUrl(): string {
  return inject("amqpUrl");
}
