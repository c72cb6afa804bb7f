import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Compiles one bench script, and what it imports, with the project's tsc into `work`/out, so that the measured
 * process runs on plain node as production does (tsx's loader alone adds tens of MB of RSS and its own CPU).
 * Beside the compiled src/ go what the code finds one directory above it, as beside dist/ in the image:
 * package.json (the version) and the migrations (a worker checks the schema is current before it consumes).
 * Returns the compiled script's path.
 */
export function compileBenchScript(work: string, script: string): string {
  mkdirSync(work, { recursive: true });
  const tsconfig = {
    extends: "../../tsconfig.json",
    compilerOptions: { noEmit: false, outDir: "./out", rootDir: "../..", sourceMap: false },
    include: [`../../${script}`],
  };
  writeFileSync(join(work, "tsconfig.json"), JSON.stringify(tsconfig));
  execFileSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", join(work, "tsconfig.json")], {
    stdio: "inherit",
  });
  copyFileSync(join(ROOT, "package.json"), join(work, "out", "package.json"));
  cpSync(join(ROOT, "migrations"), join(work, "out", "migrations"), { recursive: true });
  return join(work, "out", script.replace(/\.ts$/, ".js"));
}
