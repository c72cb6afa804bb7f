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
const runs = (stage: typeof instructions) =>
  stage
    .filter(keyword("RUN"))
    .map((i) => ({ line: i.getRange().start.line, text: i.getArgumentsContent() ?? "" }));
const build = instructions.filter((i) => !runtime.includes(i));
const loadsAddon = `node -e "require('kerberos')"`;

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

  describe("the optional kerberos addon (Koji auth gssapi)", () => {
    it("is built where its headers and a C++ toolchain are, before the first npm ci", () => {
      const buildRuns = runs(build);
      const install = buildRuns.find((r) => /\bdnf install\b/.test(r.text));
      for (const pkg of ["krb5-devel", "gcc-c++", "make", "python3"]) expect(install?.text).toContain(pkg);
      const firstCi = buildRuns.find((r) => r.text.includes("npm ci"));
      expect(install && firstCi && install.line < firstCi.line).toBe(true);
    });

    it("fails the build when npm ci left it out: every npm ci is followed by loading it", () => {
      const ci = runs(instructions).filter((r) => r.text.includes("npm ci"));
      expect(ci.length).toBeGreaterThan(0);
      for (const r of ci) expect(r.text.slice(r.text.lastIndexOf("npm ci"))).toContain(`&& ${loadsAddon}`);
    });

    it("loads in the runtime image, with the Kerberos libraries installed there", () => {
      const runtimeRuns = runs(runtime);
      const libs = runtimeRuns.find((r) => /\bmicrodnf install\b.*\bkrb5-libs\b/.test(r.text));
      const copied = runtime.find(
        (i) => i.getKeyword() === "COPY" && i.getArgumentsContent()?.includes("/src/node_modules"),
      );
      const smoke = runtimeRuns.find((r) => r.text === loadsAddon);
      expect(libs).toBeDefined();
      expect(copied).toBeDefined();
      expect(smoke).toBeDefined();
      const copiedAt = copied?.getRange().start.line ?? Number.POSITIVE_INFINITY;
      expect((libs?.line ?? Number.POSITIVE_INFINITY) < (smoke?.line ?? -1)).toBe(true);
      expect(copiedAt < (smoke?.line ?? -1)).toBe(true);
    });
  });

  it("builds and runs on a supported Node.js LTS, the one package.json's engines name", () => {
    const images = instructions
      .filter(keyword("ARG"))
      .map((i) => i.getArgumentsContent() ?? "")
      .filter((a) => /_IMAGE=/.test(a));
    expect(images).toHaveLength(2);
    for (const image of images) expect(image).toMatch(/\/nodejs-(22|24)(-minimal)?:/);
    const engines = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).engines
      .node;
    expect(engines).not.toMatch(/20/);
    expect(engines).toMatch(/22|24/);
  });

  it("writes no version by hand: package.json is the one place", () => {
    const version = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
    expect(text).not.toContain(version);
  });
});
