import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { parse } from "yaml";
import { Duration } from "../../src/config/schema.js";

const CHART = new URL("../../helm/osbuild-koji-importer/", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, CHART), "utf8");

it("the pod's probes and grace period match the process: liveness never waits for broker or database, the grace period is above SHUTDOWN_TIMEOUT", () => {
  const values = parse(read("values.yaml"));
  const deployment = read("templates/deployment.yaml");
  const probe = (name: string) => {
    const match = new RegExp(`${name}:\\n\\s+httpGet: \\{ path: (\\S+), port: admin \\}`).exec(deployment);
    return match?.[1];
  };
  expect(probe("startupProbe")).toBe("/healthz");
  expect(probe("livenessProbe")).toBe("/healthz");
  expect(probe("readinessProbe")).toBe("/readyz");
  expect(read("templates/configmap.yaml")).toContain(
    "SHUTDOWN_TIMEOUT: {{ .Values.config.shutdownTimeout | quote }}",
  );
  expect(deployment).toContain("terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}");
  const shutdownMs = Duration.parse(values.config.shutdownTimeout);
  // The process gives itself SHUTDOWN_TIMEOUT + 10 s at most before it exits on its own.
  expect(values.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(shutdownMs + 10_000);
});
