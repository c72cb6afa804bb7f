import {
  type ComposeLogs,
  ComposeLogsSchema,
  type ComposeStatus,
  ComposeStatusSchema,
} from "../schemas/composer.js";
import type { ImportContext } from "./context.js";

/**
 * Composer's answers as the import's row holds them (jsonb, so `unknown` to the type checker), parsed. The steps
 * read them several times per import (the failed-compose check, assembly, pre-flight, the reservation): each
 * object is parsed once and the result kept beside it for as long as the object lives, instead of once per read.
 * Nothing changes them once stored: a step that moves the row on replaces the object, which is then parsed anew.
 */
const parsedLogs = new WeakMap<object, ComposeLogs>();
const parsedStatuses = new WeakMap<object, ComposeStatus>();

function parseOnce<T>(cache: WeakMap<object, T>, value: unknown, parse: (value: unknown) => T): T {
  if (typeof value !== "object" || value === null) return parse(value);
  const known = cache.get(value);
  if (known !== undefined) return known;
  const result = parse(value);
  cache.set(value, result);
  return result;
}

export function storedLogs(ctx: ImportContext): ComposeLogs {
  return parseOnce(parsedLogs, ctx.row.compose_logs, (value) => ComposeLogsSchema.parse(value));
}

export function storedStatus(ctx: ImportContext): ComposeStatus {
  return parseOnce(parsedStatuses, ctx.row.compose_status, (value) => ComposeStatusSchema.parse(value));
}
