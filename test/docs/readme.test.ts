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
});
