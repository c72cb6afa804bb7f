import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function builtAt(): number {
  try {
    return statSync(join(ROOT, "dist/cli.js")).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * The CLI tests run dist/cli.js, as the image does: build it once per test run when any source is newer than the
 * build (a bare clone has no dist/ at all).
 */
export function buildWhenStale(): void {
  const sources = Math.max(newest(join(ROOT, "src")), statSync(join(ROOT, "package.json")).mtimeMs);
  if (builtAt() >= sources) return;
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
}
