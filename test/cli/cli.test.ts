import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SEED_BUILD_EXTRA } from "../core/seed.js";
import { COMPOSES, COMPOSES_DIR } from "../fixtures/composes.js";
import { runCli } from "../support/built-cli.js";
import { closedPort } from "../support/closed-port.js";

const cli = (...args: string[]) => runCli(args);
const cliWith = (env: Record<string, string>, ...args: string[]) => runCli(args, env);

const fixture = (id: string, name: string) => new URL(`${id}/${name}.json`, COMPOSES_DIR).pathname;
const composeArgs = (id: string) =>
  ["event", "status", "logs", "manifests"].flatMap((name) => [`--${name}`, fixture(id, name)]);

describe("osbuild-koji-importer CLI", () => {
  it("assemble prints the CG document with 2-space indentation", async () => {
    const { code, stdout } = await cli("assemble", ...composeArgs(COMPOSES.reserved));
    expect(code).toBe(0);
    const document = JSON.parse(stdout);
    expect(document.build.build_id).toBe(1001);
    expect(stdout).toBe(`${JSON.stringify(document, null, 2)}\n`);
  });

  it("assemble fails with exit 1 and one line naming the file and the field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "oki-cli-"));
    const badEvent = join(dir, "event.json");
    writeFileSync(badEvent, JSON.stringify({ type: "compose.finished", version: 1, compose_id: "nope" }));
    const args = composeArgs(COMPOSES.reserved);
    args[1] = badEvent;
    const { code, stderr } = await cli("assemble", ...args);
    expect(code).toBe(1);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("event: invalid compose_id");
    expect(stderr).not.toContain("    at ");

    const badLogs = join(dir, "logs.json");
    writeFileSync(
      badLogs,
      JSON.stringify({ id: "x", kind: "ComposeLogs", href: "/", image_builds: [{ success: 1 }] }),
    );
    const logArgs = composeArgs(COMPOSES.reserved);
    logArgs[5] = badLogs;
    const logs = await cli("assemble", ...logArgs);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain(`${badLogs}: invalid image_builds[0].success`);
  });

  it("start refuses a bad configuration with exit 78 (EX_CONFIG), every problem on a line of its own", async () => {
    const { code, stderr, stdout } = await cliWith(
      { ADMIN_PORT: "abc", COMPOSER_AUTH: "oauth", KOJI_HUBS: "not json", DATABASE_URL: "mysql://db/x" },
      "start",
    );
    expect(code).toBe(78);
    expect(stdout).toBe("");
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(6);
    for (const variable of [
      "ADMIN_PORT",
      "KOJI_HUBS",
      "DATABASE_URL",
      "COMPOSER_TOKEN_URL",
      "COMPOSER_CLIENT_ID",
      "COMPOSER_CLIENT_SECRET",
    ])
      expect(lines.filter((line) => line.startsWith(`start: configuration: ${variable}: `))).toHaveLength(1);
    expect(stderr).not.toContain("    at ");

    // Variables that parse, but the worker would have nothing to import into and a file it cannot read.
    const checks = await cliWith({ KOJI_HUBS: "[]", COMPOSER_CA_FILE: "/nonexistent/ca.pem" }, "worker");
    expect(checks.code).toBe(78);
    expect(checks.stderr.trim().split("\n").sort()).toEqual([
      "worker: configuration: COMPOSER_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)",
      "worker: configuration: KOJI_HUBS: no Koji hub configured; the worker could import nothing",
    ]);
  });

  it("exits 2 with usage on wrong usage", async () => {
    const missing = await cli("assemble", "--event", "x.json");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing --status, --logs, --manifests");
    expect(missing.stderr).toContain("usage: osbuild-koji-importer assemble");
    expect((await cli("assemble", "--bogus")).code).toBe(2);
    expect((await cli("no-such-command")).code).toBe(2);
  });

  it("reproduce prints the rebuild steps of a Koji build", async () => {
    const dir = mkdtempSync(join(tmpdir(), "oki-cli-"));
    const build = join(dir, "build.json");
    writeFileSync(
      build,
      JSON.stringify({ build_id: 1, nvr: "name-version-release", extra: SEED_BUILD_EXTRA }),
    );
    const { code, stdout } = await cli("reproduce", "--build", build);
    expect(code).toBe(0);
    expect(stdout).toContain(
      "sudo osbuild --output-directory OUTPUT_DIR --store STORE_DIR --export xz name-version-release.x86_64.raw.xz.manifest.json",
    );
    expect(stdout).toContain("OUTPUT_DIR/xz/image.raw.xz");
    expect(stdout).toContain("osbuild version 93");
  });

  it("answers --help for every command with its usage, exit 0, touching nothing", async () => {
    // Nothing listens at these addresses: a command that connected anywhere would fail.
    const nowhere = await closedPort();
    const env = {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${nowhere}/x`,
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${nowhere}`,
    };
    const top = await runCli(["--help"], env);
    const commands = [...top.stdout.matchAll(/^ {2}(\S+) /gm)].map((m) => m[1] as string);
    expect(commands).toEqual(
      expect.arrayContaining(["start", "worker", "serve", "migrate", "status", "dlq"]),
    );
    for (const command of commands) {
      for (const flag of ["--help", "-h"]) {
        const answer = await runCli([command, flag], env);
        expect({ command, code: answer.code, stderr: answer.stderr }).toEqual({
          command,
          code: 0,
          stderr: "",
        });
        expect(answer.stdout).toContain(`usage: osbuild-koji-importer ${command}`);
      }
    }
    expect((await runCli(["dlq", "replay", "--help"], env)).code).toBe(0);
    expect((await runCli(["start", "--bogus"], env)).code).toBe(2);
  }, 180_000);

  it("prints the version from package.json", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect((await cli("--version")).stdout).toBe(`${version}\n`);
  });
});
