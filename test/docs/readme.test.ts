import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EnvSchema } from "../../src/config/schema.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("documents every configuration variable, and no variable the service does not read", () => {
    const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(Object.keys(EnvSchema.shape)));
  });

  it("shows the two set-up commands", () => {
    expect(readme).toContain("npm run demo");
    expect(readme).toContain("npm test");
  });

  it("shows a Kerberos (gssapi) hub configuration: principal, keytab, KRB5_CONFIG, no kinit, the Helm mounts", () => {
    const section = readme.slice(readme.indexOf("**Koji hubs and Kerberos.**"));
    expect(section).toMatch(/"auth": "gssapi",\s+"principal": "[^"]+@[A-Z.]+",\s+"keytab_file": "[^"]+"/);
    for (const needed of [
      "KRB5_CONFIG=",
      "No kinit is needed",
      "KRB5CCNAME",
      "kerberos.krb5ConfigMap",
      "--from-file=keytab=",
    ]) {
      expect(section).toContain(needed);
    }
  });
});
