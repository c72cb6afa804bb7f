import type { z } from "zod";
import { describeArgumentIssues } from "../validation.js";
import { UsageError } from "./usage-error.js";

/** The flag a field is given with: `koji_server` is `--koji-server`. */
export const flagOf = (field: string) => `--${field.replace(/_/g, "-")}`;

/**
 * Checks the command's flags with the schema the admin API uses for the same arguments, so a bad value is refused
 * in the same words on both (`invalid --since: ...` here, `invalid query.since: ...` there).
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, usage: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new UsageError(describeArgumentIssues(result.error, flagOf), usage);
}
