import pg from "pg";
import { runMigrations } from "../src/store/migrate.js";

/** The local PostgreSQL the benches make their databases on (a database of each run's own, dropped at its end). */
export const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface BenchDatabase {
  /** The run's database, migrated. */
  url: string;
  /** Drops the database (whoever is still connected) and closes the admin connection. */
  drop(): Promise<void>;
}

/** Creates the database `name` next to ADMIN_URL's and runs the service's migrations on it. */
export async function createBenchDatabase(name: string): Promise<BenchDatabase> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await runMigrations(url.toString());
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
