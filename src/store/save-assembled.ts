import type pg from "pg";
import type { CgMetadata } from "../schemas/cg-metadata.js";
import { inTransaction } from "./db.js";
import { guardedUpdate } from "./guarded-update.js";
import type { ImportRow } from "./import-row.js";

/** Stores the CG document and one row per output (with its `extra.image`) in one transaction. */
export function saveAssembled(
  client: pg.PoolClient | pg.Client,
  composeId: string,
  document: CgMetadata,
): Promise<ImportRow> {
  return inTransaction(client, async () => {
    const row = await guardedUpdate(client, composeId, ["fetched"], "state = 'assembled', cg_metadata = $3", [
      JSON.stringify(document),
    ]);
    await client.query("DELETE FROM import_outputs WHERE compose_id = $1", [composeId]);
    for (const output of document.output) {
      const extraImage = (output.extra as { image?: unknown } | undefined)?.image;
      await client.query(
        `INSERT INTO import_outputs (compose_id, filename, type, arch, filesize, checksum_type, checksum, extra_image)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          composeId,
          output.filename,
          output.type,
          output.arch,
          output.filesize,
          output.checksum_type,
          output.checksum,
          extraImage === undefined ? null : JSON.stringify(extraImage),
        ],
      );
    }
    return row;
  });
}
