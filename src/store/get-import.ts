import type { Db } from "./db.js";
import { type ImportRow, toImportRow } from "./import-row.js";

export async function getImport(db: Db, composeId: string): Promise<ImportRow | undefined> {
  const result = await db.query("SELECT * FROM imports WHERE compose_id = $1", [composeId]);
  return result.rows[0] ? toImportRow(result.rows[0]) : undefined;
}
