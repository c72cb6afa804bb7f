import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  scripts: Record<string, string>;
};

/**
 * `npm start` runs the start script through /bin/sh; a shell that forks node and then dies of the SIGTERM leaves node
 * orphaned and consuming. The script runs here, as written in package.json, against a stand-in for dist/cli.js
 * that says when it gets SIGTERM.
 */
it("npm start hands SIGTERM to node itself", async () => {
  const dir = mkdtempSync(join(tmpdir(), "oki-npm-start-"));
  try {
    mkdirSync(join(dir, "dist"));
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "npm-start-check", version: "0.0.0", scripts: { start: pkg.scripts.start } }),
    );
    writeFileSync(
      join(dir, "dist", "cli.js"),
      `process.on("SIGTERM", () => { process.stdout.write("got SIGTERM\\n"); process.exit(0); });
process.stdout.write("running " + process.argv.slice(2).join(" ") + "\\n");
setTimeout(() => process.exit(3), 20_000);
`,
    );
    const npm = spawn("npm", ["start", "--silent"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const running = new Promise<void>((resolve) =>
      npm.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("running start")) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
    await running;
    npm.kill("SIGTERM");
    await exited;
    // node's own output arrives through the pipe npm's child shares; give it a moment to drain.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(out).toContain("got SIGTERM");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
