import { readFileSync } from "node:fs";

/**
 * Secrets come from the environment or from files mounted by Kubernetes: for any secret variable `X`, `X_FILE`
 * names a file whose contents (trailing newline trimmed) are the value. A file wins over the plain variable so a
 * mounted Secret cannot be shadowed by a stale env entry. A file that cannot be read is added to `problems`.
 */
export function resolveFileVariables(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
  problems: string[],
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of names) {
    const file = env[`${name}_FILE`];
    if (file) {
      try {
        out[name] = readFileSync(file, "utf8").replace(/\r?\n$/, "");
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        problems.push(`${name}_FILE: cannot read ${file} (${reason})`);
      }
    }
  }
  return out;
}
