import type { CgMetadata } from "../schemas/cg-metadata.js";
import type { Db } from "./db.js";
import { guardedUpdate, type StepLog } from "./guarded-update.js";
import type { ImportProgress } from "./import-row.js";

/**
 * Stores the CG document and one row per output (with its `extra.image`) in one statement: the outputs of an
 * earlier assembly (an operator's retry) are replaced, those no longer produced removed.
 */
export function saveAssembled(
  db: Db,
  composeId: string,
  document: CgMetadata,
  log?: StepLog,
): Promise<ImportProgress> {
  const outputs = document.output.map((output) => ({
    filename: output.filename,
    type: output.type,
    arch: output.arch,
    filesize: output.filesize,
    checksum_type: output.checksum_type,
    checksum: output.checksum,
    extra_image: (output.extra as { image?: unknown } | undefined)?.image ?? null,
  }));
  return guardedUpdate(
    db,
    composeId,
    "saveAssembled",
    "cg_metadata = $3",
    [JSON.stringify(document), JSON.stringify(outputs)],
    {
      log,
      also: [
        `DELETE FROM import_outputs AS o USING updated
         WHERE o.compose_id = updated.compose_id
           AND o.filename NOT IN (SELECT filename FROM jsonb_to_recordset($4::jsonb) AS n(filename text))`,
        `INSERT INTO import_outputs (compose_id, filename, type, arch, filesize, checksum_type, checksum, extra_image)
         SELECT updated.compose_id, n.filename, n.type, n.arch, n.filesize, n.checksum_type, n.checksum, n.extra_image
         FROM updated, jsonb_to_recordset($4::jsonb) AS n(filename text, type text, arch text, filesize bigint,
                                                         checksum_type text, checksum text, extra_image jsonb)
         ON CONFLICT (compose_id, filename) DO UPDATE
         SET type = EXCLUDED.type, arch = EXCLUDED.arch, filesize = EXCLUDED.filesize,
             checksum_type = EXCLUDED.checksum_type, checksum = EXCLUDED.checksum, extra_image = EXCLUDED.extra_image`,
      ],
    },
  );
}
