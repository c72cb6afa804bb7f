import { z } from "zod";
import type { Db } from "../store/db.js";
import { IMPORT_STATES } from "../store/import-states.js";
import { listImports } from "../store/queries/list-imports.js";
import { type ImportView, ImportViewSchema, importView } from "./import-view.js";

/** Keyset cursors are opaque to clients: base64url of the last row's (created_at, compose_id). */
const CursorSchema = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

function encodeCursor(createdAt: string, composeId: string): string {
  return Buffer.from(JSON.stringify([createdAt, composeId])).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: string; composeId: string } | undefined {
  try {
    const [createdAt, composeId] = CursorSchema.parse(
      JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")),
    );
    return { createdAt, composeId };
  } catch {
    return undefined;
  }
}

/**
 * The filters of an import listing, for `GET /v1/imports` and `imports list` alike (so both refuse a bad value in
 * the same words): the query string's names, the CLI's flags spelled `--koji-server` for `koji_server`.
 */
export const ImportListQuerySchema = z.object({
  state: z.enum(IMPORT_STATES).optional(),
  koji_server: z.string().min(1).optional(),
  since: z.iso.datetime({ offset: true, message: "expected an RFC 3339 timestamp" }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .min(1)
    .refine((cursor) => decodeCursor(cursor) !== undefined, "not a cursor this API gave out")
    .optional(),
});
export type ImportListQuery = z.infer<typeof ImportListQuerySchema>;

export const ImportListPageSchema = z.object({
  items: z.array(ImportViewSchema),
  next_cursor: z.string().nullable(),
});
export type ImportListPage = { items: ImportView[]; next_cursor: string | null };

/** One page of imports, newest first; `next_cursor` asks for the next page (null on the last). */
export async function listImportPage(db: Db, query: ImportListQuery): Promise<ImportListPage> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const listed = await listImports(db, {
    ...(query.state ? { state: query.state } : {}),
    ...(query.koji_server ? { kojiServer: query.koji_server } : {}),
    ...(query.since ? { since: new Date(query.since) } : {}),
    limit: query.limit,
    ...(after ? { after } : {}),
  });
  const last = listed.at(-1);
  return {
    items: listed.map(({ row }) => importView(row)),
    next_cursor:
      listed.length === query.limit && last ? encodeCursor(last.createdAtKey, last.row.compose_id) : null,
  };
}
