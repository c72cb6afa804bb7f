import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = new URL("../../", import.meta.url).pathname;
/** The CLI as it ships: dist/cli.js, built by the global setup (test/support/build.ts) when src/ is newer. */
export const BUILT_CLI = `${ROOT}dist/cli.js`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with `env` over the test process's environment; never throws on a non-zero exit. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BUILT_CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
