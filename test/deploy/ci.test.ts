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
});
