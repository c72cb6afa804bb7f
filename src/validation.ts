import type { z } from "zod";
import type { PermanentCode } from "./error-codes.js";
import { permanentError } from "./errors.js";

/** `a.b[2].c` from a zod issue path, so messages name the field the way a person reads JSON. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

/** One line per issue: `field.path: message`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join("; ");
}

/**
 * Parses input from outside the process. A failure is permanent (the same bytes will fail again) and its message
 * starts with `what` (an endpoint, a file, "event") and names every failing field.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  code: PermanentCode = "INVALID_INPUT",
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const firstPath = result.error.issues[0] ? formatPath(result.error.issues[0].path) : "(root)";
  throw permanentError(code, `${what}: invalid ${formatIssues(result.error)}`, {
    details: {
      field: firstPath,
      issues: result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    },
  });
}

/**
 * An argument's problems in the words the admin API and the CLI share: `invalid <name>: <what is wrong>`, where
 * the name is the argument as that surface spells it (`query.since` over HTTP, `--since` on the command line).
 */
export function describeArgumentIssues(error: z.ZodError, nameOf: (field: string) => string): string {
  return error.issues
    .map((issue) => `invalid ${nameOf(formatPath(issue.path))}: ${issue.message}`)
    .join("; ");
}
