import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** CI's script as run: its top-level lines, without comments or function bodies' definitions. */
const script = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");
const lines = script.split("\n");
const topLevel = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));

describe(".ci/run", () => {
  it("installs MIT Kerberos's headers before npm ci, so the kerberos addon is built", () => {
    expect(script).toMatch(/install_kerberos_headers\(\) \{[^}]*apt-get install[^}]*libkrb5-dev/);
    const install = topLevel(/^install_kerberos_headers$/);
    const ci = topLevel(/^npm ci\b/);
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(ci);
  });

  it("fails when npm ci left the addon out", () => {
    const ci = topLevel(/^npm ci\b/);
    const check = topLevel(/^if ! node -e "require\('kerberos'\)"; then$/);
    expect(check).toBeGreaterThan(ci);
    expect(lines.slice(check, check + 4).join("\n")).toMatch(/exit 1/);
  });

  it("brings up the real hub's Kerberos login after the hub itself", () => {
    const up = script.indexOf('bash "$realhub/up.sh"');
    const kerberos = script.indexOf('bash "$realhub/up-kerberos.sh"');
    expect(up).toBeGreaterThan(-1);
    expect(kerberos).toBeGreaterThan(up);
    expect(topLevel(/^start_realhub$/)).toBeGreaterThan(topLevel(/^npm ci\b/));
  });

  it("runs on the Node.js LTS the image ships, installed before npm ci so native addons build for it", () => {
    const major = script.match(/^NODE_LTS_MAJOR=(\d+)$/m)?.[1];
    expect(major).toBeDefined();
    const dockerfile = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
    expect(dockerfile).toMatch(new RegExp(`nodejs-${major}\\b`));
    expect(script).toMatch(/install_node_lts\(\) \{[^}]*export npm_config_nodedir=/s);
    const install = topLevel(/^install_node_lts$/);
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(topLevel(/^npm ci\b/));
  });

  it("runs the README's test command from a bare clone, with coverage", () => {
    expect(script).toMatch(/git clone --quiet --no-local \. "\$bare\//);
    expect(script).toMatch(/unset COMPOSER_OPENAPI_FILE\n\s*npm test -- --coverage/);
  });
});
