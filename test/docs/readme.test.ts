import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EnvSchema } from "../../src/config/schema.js";
import { ERROR_CODES } from "../../src/error-codes.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The README's section under `heading`, up to the next `## `. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no section ${heading}`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The registry as the README's table writes it, one row per code, in the registry's order. */
function errorCodeRows(): string[] {
  return Object.entries(ERROR_CODES).map(([code, info]) => {
    const http = "http" in info ? ` ${info.http} ` : " ";
    return `| \`${code}\` | ${info.class} |${http}| ${info.meaning} |`;
  });
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("README", () => {
  it("documents every configuration variable, and no variable the service does not read", () => {
    const table = section("## Configuration");
    const documented = [...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(Object.keys(EnvSchema.shape)));
  });

  it("lists every error code of src/error-codes.ts with its class, HTTP status and meaning", () => {
    const documented = section("## Error codes")
      .split("\n")
      .filter((line) => line.startsWith("| `"));
    // On a difference the expected rows are printed whole: paste them into the README.
    expect(documented.join("\n")).toBe(errorCodeRows().join("\n"));
  });

  it("lists no error code that nothing in src/ gives", () => {
    const src = new URL("../../src/", import.meta.url).pathname;
    const text = sourceFiles(src)
      .filter((file) => !file.endsWith("error-codes.ts"))
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    const unused = Object.keys(ERROR_CODES).filter((code) => !text.includes(`"${code}"`));
    expect(unused).toEqual([]);
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
