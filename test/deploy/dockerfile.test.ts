import { readFileSync } from "node:fs";
import { DockerfileParser } from "dockerfile-ast";
import { describe, expect, it } from "vitest";

const text = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions();
const froms = dockerfile.getFROMs();
const lastFrom = froms.at(-1);
const runtime = instructions.filter(
  (i) => lastFrom && i.getRange().start.line > lastFrom.getRange().start.line,
);
const keyword = (k: string) => (i: { getKeyword(): string }) => i.getKeyword() === k;

describe("Dockerfile", () => {
  it("is multi-stage", () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
  });

  it("runs as a numeric non-root user in the runtime stage", () => {
    const user = runtime.filter(keyword("USER")).at(-1)?.getArgumentsContent();
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).not.toBe(0);
  });

  it("installs with npm ci only, never npm install", () => {
    const runs = instructions.filter(keyword("RUN")).map((i) => i.getArgumentsContent() ?? "");
    expect(runs.some((r) => r.includes("npm ci"))).toBe(true);
    expect(runs.filter((r) => /npm (install|i)\b/.test(r))).toEqual([]);
  });

  it("sets NODE_ENV=production in the runtime stage", () => {
    expect(runtime.filter(keyword("ENV")).map((i) => i.getArgumentsContent())).toContain(
      "NODE_ENV=production",
    );
  });

  it("starts node directly in exec form, so SIGTERM reaches it, with `start` by default", () => {
    expect(runtime.find(keyword("ENTRYPOINT"))?.getArgumentsContent()).toBe('["node", "dist/cli.js"]');
    expect(runtime.find(keyword("CMD"))?.getArgumentsContent()).toBe('["start"]');
  });

  it("ships the migrations and labels the image with its source and version", () => {
    expect(runtime.filter(keyword("COPY")).map((i) => i.getArgumentsContent())).toContain(
      "migrations ./migrations",
    );
    const labels = runtime
      .filter(keyword("LABEL"))
      .map((i) => i.getArgumentsContent() ?? "")
      .join(" ");
    expect(labels).toContain("org.opencontainers.image.source");
    expect(labels).toContain("org.opencontainers.image.version");
  });
});
