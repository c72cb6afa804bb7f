import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadConfig } from "../../src/config/load.js";
import { checkStartup } from "../../src/service/startup-checks.js";

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected loadConfig to fail");
}

describe("loadConfig", () => {
  it("defaults to this machine's services and the fakes' ports", () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBe("postgres://postgres@127.0.0.1:5432/osbuild_koji_importer");
    expect(config.AMQP_URL).toBe("amqp://guest:guest@127.0.0.1:5672");
    expect(config.RETRY_DELAYS).toEqual([10_000, 60_000, 600_000, 3_600_000]);
    expect(config.KOJI_CG_NAME).toBe("osbuild");
    expect(config.kojiHubs).toEqual([]);
  });

  it("parses durations and lists of durations", () => {
    const config = loadConfig({ RETRY_DELAYS: "500ms, 2s,1m", COMPOSER_TIMEOUT: "1h" });
    expect(config.RETRY_DELAYS).toEqual([500, 2000, 60_000]);
    expect(config.COMPOSER_TIMEOUT).toBe(3_600_000);
  });

  it("reports every invalid variable at once, each by name", () => {
    const error = configError({
      ADMIN_PORT: "eighty",
      RETRY_DELAYS: "10 minutes",
      COMPOSER_URL: "not a url",
    });
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("ADMIN_PORT");
    expect(error.message).toContain("RETRY_DELAYS[0]");
    expect(error.message).toContain("COMPOSER_URL");
  });

  it("requires the OAuth settings when composer auth is oauth", () => {
    const error = configError({ COMPOSER_AUTH: "oauth", COMPOSER_CLIENT_ID: "importer" });
    expect(error.message).toContain("COMPOSER_TOKEN_URL: required when COMPOSER_AUTH=oauth");
    expect(error.message).toContain("COMPOSER_CLIENT_SECRET: required");
    expect(error.message).not.toContain("COMPOSER_CLIENT_ID: required");
  });

  it("reads secrets from *_FILE, which wins over the plain variable", () => {
    const dir = mkdtempSync(join(tmpdir(), "oki-config-"));
    writeFileSync(join(dir, "token"), "a-very-long-admin-token\n");
    const config = loadConfig({ ADMIN_TOKEN: "stale-token-from-env!", ADMIN_TOKEN_FILE: join(dir, "token") });
    expect(config.ADMIN_TOKEN).toBe("a-very-long-admin-token");
    expect(configError({ ADMIN_TOKEN_FILE: join(dir, "absent") }).message).toContain("ADMIN_TOKEN_FILE");
  });

  it("parses Koji hubs and names the field of a bad one", () => {
    const hubs = [
      { url: "https://koji.example.org/kojihub", auth: "ssl", cert_file: "/c", key_file: "/k" },
      { url: "https://koji2.example.org/kojihub", auth: "gssapi", principal: "p@EX", keytab_file: "/kt" },
    ];
    expect(loadConfig({ KOJI_HUBS: JSON.stringify(hubs) }).kojiHubs).toHaveLength(2);
    const bad = configError({
      KOJI_HUBS: JSON.stringify([{ url: "https://k/kojihub", auth: "ssl", cert_file: "/c" }]),
    });
    expect(bad.problems).toEqual([expect.stringMatching(/^KOJI_HUBS\[0\]\.key_file: /)]);
    expect(configError({ KOJI_HUBS: "[{" }).problems).toEqual(["KOJI_HUBS: not valid JSON"]);
  });

  it("reports the variables of every kind of problem in one pass, one line each", () => {
    const error = configError({ ADMIN_PORT: "abc", COMPOSER_AUTH: "oauth", KOJI_HUBS: "not json" });
    expect([...error.problems].sort()).toEqual([
      expect.stringMatching(/^ADMIN_PORT: /),
      "COMPOSER_CLIENT_ID: required when COMPOSER_AUTH=oauth",
      "COMPOSER_CLIENT_SECRET: required when COMPOSER_AUTH=oauth",
      "COMPOSER_TOKEN_URL: required when COMPOSER_AUTH=oauth",
      "KOJI_HUBS: not valid JSON",
    ]);
    const mtls = configError({
      COMPOSER_AUTH: "mtls",
      ADMIN_READ_AUTH: "token",
      ADMIN_TOKEN_FILE: "/nonexistent/t",
    });
    expect(mtls.problems).toEqual([
      "ADMIN_TOKEN_FILE: cannot read /nonexistent/t (ENOENT)",
      "COMPOSER_CERT_FILE: required when COMPOSER_AUTH=mtls",
      "COMPOSER_KEY_FILE: required when COMPOSER_AUTH=mtls",
      "ADMIN_TOKEN: required when ADMIN_READ_AUTH=token",
    ]);
  });

  it("refuses URLs that do not parse or have the wrong scheme, naming the variable and not the value", () => {
    const error = configError({
      DATABASE_URL: "mysql://root:hunter2@db/x",
      AMQP_URL: "rabbit at mq",
      COMPOSER_TOKEN_URL: "::",
    });
    expect(error.problems).toEqual([
      "DATABASE_URL: expected a postgres:// or postgresql:// URL",
      "AMQP_URL: expected a amqp:// or amqps:// URL",
      expect.stringMatching(/^COMPOSER_TOKEN_URL: /),
    ]);
    expect(error.message).not.toContain("hunter2");
    expect(loadConfig({ DATABASE_URL: "postgresql://u@h/db" }).DATABASE_URL).toBe("postgresql://u@h/db");
  });

  it("start-up checks: a worker needs a Koji hub, and every file the configuration names readable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "oki-config-"));
    writeFileSync(join(dir, "cert.pem"), "x");
    const noHubs = loadConfig({});
    await expect(checkStartup(noHubs, ["admin"])).resolves.toBeUndefined();
    const refused = await checkStartup(noHubs, ["worker"]).catch((e: unknown) => e as ConfigError);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toEqual([
      "KOJI_HUBS: no Koji hub configured; the worker could import nothing",
    ]);
    const hubs = [
      {
        url: "https://k/kojihub",
        auth: "ssl",
        cert_file: join(dir, "cert.pem"),
        key_file: join(dir, "no.key"),
      },
      { url: "https://k2/kojihub", auth: "gssapi", principal: "p@EX", keytab_file: join(dir, "no.keytab") },
    ];
    const config = loadConfig({
      KOJI_HUBS: JSON.stringify(hubs),
      COMPOSER_AUTH: "mtls",
      COMPOSER_CERT_FILE: join(dir, "cert.pem"),
      COMPOSER_KEY_FILE: dir,
    });
    const problems = await checkStartup(config, ["worker"]).catch(
      (e: unknown) => (e as ConfigError).problems,
    );
    expect(problems).toEqual([
      `COMPOSER_KEY_FILE: ${dir} is not a file`,
      `KOJI_HUBS[0].key_file: cannot read ${join(dir, "no.key")} (ENOENT)`,
      `KOJI_HUBS[1].keytab_file: cannot read ${join(dir, "no.keytab")} (ENOENT)`,
    ]);
  });

  it("never shows secrets in the described configuration", () => {
    const config = loadConfig({
      AMQP_URL: "amqp://user:hunter2@mq:5672",
      ADMIN_TOKEN: "0123456789abcdef-secret",
    });
    const shown = JSON.stringify(describeConfig(config));
    expect(shown).not.toContain("hunter2");
    expect(shown).not.toContain("0123456789abcdef-secret");
  });
});
