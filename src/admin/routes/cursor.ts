import { z } from "zod";
import { HttpError } from "../errors.js";

/** Keyset cursors are opaque to clients: base64url of the last row's (created_at, compose_id). */
const CursorSchema = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

export function encodeCursor(createdAt: string, composeId: string): string {
  return Buffer.from(JSON.stringify([createdAt, composeId])).toString("base64url");
}

export function decodeCursor(cursor: string): { createdAt: string; composeId: string } {
  try {
    const [createdAt, composeId] = CursorSchema.parse(
      JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")),
    );
    return { createdAt, composeId };
  } catch {
    throw new HttpError(400, "INVALID_REQUEST", "invalid query.cursor: not a cursor this API gave out", {
      field: "query.cursor",
    });
  }
}
