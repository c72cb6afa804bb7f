import { type Db, preparedQuery } from "./db.js";

/** Another compose that already imported this NVR into this hub, if any: one NVR is one Koji build. */
export async function findImportedNvr(
  db: Db,
  composeId: string,
  nvr: { server: string; name: string; version: string; release: string },
): Promise<{ compose_id: string; koji_build_id: number } | undefined> {
  const result = await preparedQuery<{ compose_id: string; koji_build_id: string }>(
    db,
    `SELECT compose_id, koji_build_id FROM imports
     WHERE koji_server = $1 AND name = $2 AND version = $3 AND release = $4 AND state = 'imported'
       AND compose_id <> $5`,
    [nvr.server, nvr.name, nvr.version, nvr.release, composeId],
  );
  const row = result.rows[0];
  return row ? { compose_id: row.compose_id, koji_build_id: Number(row.koji_build_id) } : undefined;
}
