import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type { Logger } from "../log.js";
import type { Db } from "./db.js";

/** `migrations/` at the package root, from src/store (tsx) and dist/store (built) alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));
export const MIGRATIONS_TABLE = "pgmigrations";

/** Applies every pending migration; node-pg-migrate's advisory lock keeps two replicas from racing. */
export async function runMigrations(databaseUrl: string, logger?: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: "up",
    migrationsTable: MIGRATIONS_TABLE,
    count: Number.POSITIVE_INFINITY,
    log: (message: string) => logger?.debug({ migration: message }, "migrate"),
  });
  const names = applied.map((m) => m.name);
  logger?.info({ applied: names }, names.length > 0 ? "migrations applied" : "schema is current");
  return names;
}

/** Migration files not yet applied to the database (empty when the schema is current). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR))
    .filter((f) => /\.(sql|js|ts)$/.test(f))
    .map((f) => f.replace(/\.\w+$/, ""));
  const table = await db.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [
    MIGRATIONS_TABLE,
  ]);
  if (!table.rows[0]?.exists) return files.sort();
  const done = await db.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`);
  const applied = new Set(done.rows.map((r) => r.name));
  return files.filter((f) => !applied.has(f)).sort();
}
