import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { ERROR_CODES } from "../../src/error-codes.js";
import { createMetrics } from "../../src/metrics.js";
import { validateManifest } from "./kubernetes-schemas.js";

/**
 * The chart through the real helm (3.17, from `bash .ci/install-helm`): lint and template for every example
 * values file, each rendered manifest validated against the Kubernetes API schemas (and the Prometheus Operator
 * and KEDA ones) offline, and what the rendering must say checked on the output.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
const CHART = `${ROOT}helm/osbuild-koji-importer`;
const EXAMPLES = readdirSync(`${CHART}/examples`).map((f) => `${CHART}/examples/${f}`);

function findHelm(): string | undefined {
  for (const candidate of [process.env.HELM, `${ROOT}node_modules/.tools/helm`]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return spawnSync("helm", ["version"]).status === 0 ? "helm" : undefined;
}
const helmBin = findHelm();
// CI installs helm (.ci/install-helm) and must run these; elsewhere they say how to get it and skip.
if (!helmBin && process.env.CI !== "true") {
  console.log("helm not found (HELM, node_modules/.tools/helm, PATH): run `bash .ci/install-helm`");
}

function helm(...args: string[]) {
  const result = spawnSync(helmBin ?? "helm", args, { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function render(...args: string[]): Array<Record<string, any>> {
  const out = helm("template", "rel", CHART, "--namespace", "ops", ...args);
  expect(out.stderr, out.stderr).not.toMatch(/error/i);
  expect(out.status).toBe(0);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS())
    .filter((d) => d !== null);
}

const byKind = (docs: Array<Record<string, any>>, kind: string) => docs.filter((d) => d.kind === kind);
const minimal = `${CHART}/examples/minimal-values.yaml`;
const production = `${CHART}/examples/production-values.yaml`;

describe.skipIf(!helmBin && process.env.CI !== "true")("Helm chart through helm", () => {
  it("is helm 3.17", () => {
    expect(helm("version", "--short").stdout).toMatch(/^v3\.17\./);
  });

  it("lints strictly and renders valid Kubernetes manifests for every example", async () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(2);
    for (const file of EXAMPLES) {
      const lint = helm("lint", CHART, "--strict", "-f", file);
      expect(lint.status, `${file}\n${lint.stdout}${lint.stderr}`).toBe(0);
      const docs = render("-f", file);
      expect(docs.length).toBeGreaterThan(3);
      for (const doc of docs)
        expect(await validateManifest(doc), `${file}: ${doc.kind} ${doc.metadata?.name}`).toEqual([]);
    }
  });

  it("the validator catches a broken manifest", async () => {
    const [deployment] = byKind(render("-f", minimal), "Deployment");
    const wrongType = structuredClone(deployment) as Record<string, any>;
    wrongType.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    expect((await validateManifest(wrongType)).join("\n")).toContain("containerPort must be integer");
    const missing = structuredClone(deployment) as Record<string, any>;
    delete missing.spec.selector;
    expect((await validateManifest(missing)).join("\n")).toContain(
      "spec must have required property selector",
    );
    expect(await validateManifest(deployment as Record<string, any>)).toEqual([]);
  });

  it("refuses the defaults alone, naming the fields, instead of rendering a pod that exits at once", () => {
    const out = helm("template", "rel", CHART);
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain("kojiHubs");
    expect(out.stderr).toContain("secrets.composerClientSecret.name");
    const noToken = helm("template", "rel", CHART, "-f", minimal, "--set", "config.admin.metricsAuth=token");
    expect(noToken.status).not.toBe(0);
    expect(noToken.stderr).toContain("secrets.adminToken.name");
  });

  it("runs the image of the importer version the chart was released with, unless values pin a tag", () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { version: string };
    const chart = parse(readFileSync(`${CHART}/Chart.yaml`, "utf8")) as {
      version: string;
      appVersion: string;
    };
    expect(chart.appVersion).toBe(version);
    const images = (docs: Array<Record<string, any>>) =>
      [...byKind(docs, "Deployment"), ...byKind(docs, "Job")].flatMap((d) =>
        d.spec.template.spec.containers.map((c: { image: string }) => c.image),
      );
    const defaults = images(render("-f", minimal, "--set", "migrations.enabled=true"));
    expect(defaults.length).toBeGreaterThan(0);
    for (const image of defaults) expect(image).toBe(`quay.io/osbuild/osbuild-koji-importer:${version}`);
    for (const image of images(render("-f", minimal, "--set", "image.tag=pinned")))
      expect(image).toBe("quay.io/osbuild/osbuild-koji-importer:pinned");
  });

  it("renders every number in the ConfigMap as an integer", () => {
    const [configMap] = byKind(render("-f", production), "ConfigMap");
    const data = configMap?.data as Record<string, string>;
    expect(data.KOJI_MAX_METADATA_BYTES).toBe("4194304");
    expect(data.MAX_EVENT_BYTES).toMatch(/^\d+$/);
    for (const [key, value] of Object.entries(data)) expect(value, key).not.toMatch(/^\d+(\.\d+)?e[+-]\d+$/);
  });

  it("keeps probes tokenless and gives the ServiceMonitor the admin token when /metrics asks for one", () => {
    const docs = render("-f", production);
    const data = byKind(docs, "ConfigMap")[0]?.data;
    expect(data).toMatchObject({ ADMIN_READ_AUTH: "token", ADMIN_METRICS_AUTH: "token" });
    const container = byKind(docs, "Deployment")[0]?.spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    const [monitor] = byKind(docs, "ServiceMonitor");
    expect(monitor?.spec.endpoints[0].authorization).toEqual({
      type: "Bearer",
      credentials: { name: "importer-admin", key: "token" },
    });
    const open = byKind(render("-f", minimal, "--set", "serviceMonitor.enabled=true"), "ServiceMonitor")[0];
    expect(open?.spec.endpoints[0].authorization).toBeUndefined();
  });

  it("ships alerts and a dashboard, off by default, whose expressions name metrics the service exports", async () => {
    const plain = render("-f", minimal);
    expect(byKind(plain, "PrometheusRule")).toEqual([]);
    expect(plain.filter((d) => d.metadata.name.endsWith("-dashboard"))).toEqual([]);

    const docs = render("-f", production);
    const [rule] = byKind(docs, "PrometheusRule");
    const alerts = rule?.spec.groups.flatMap((g: any) => g.rules) as Array<{ alert: string; expr: string }>;
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      "ImporterDeadLettersGrowing",
      "ImporterNoImportWhileEventsWait",
      "ImporterNotReady",
      "ImporterOutboxNotDraining",
      "ImporterRetryQueuesGrowing",
      "ImporterTlsCertificateOutOfDates",
    ]);
    const dashboard = docs.find((d) => d.metadata.name.endsWith("-dashboard"));
    const panels = JSON.parse(dashboard?.data["osbuild-koji-importer.json"]).panels as Array<{
      targets: Array<{ expr: string }>;
    }>;
    const expressions = [
      ...alerts.map((a) => a.expr),
      ...panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ];

    const exported = new Set(
      (await createMetrics().registry.getMetricsAsJSON()).flatMap((m) =>
        m.type === ("histogram" as unknown)
          ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
          : [m.name],
      ),
    );
    // kube-state-metrics' own, for readiness
    const external = new Set(["kube_pod_status_ready"]);
    const named = new Set(expressions.flatMap((e) => e.match(/\b(importer_[a-z_]+|kube_[a-z_]+)\b/g) ?? []));
    expect(named.size).toBeGreaterThan(8);
    expect([...named].filter((n) => !exported.has(n) && !external.has(n))).toEqual([]);
    // and the labels they select on exist: the queue roles and the finished states
    expect(expressions.join("\n")).toContain('role="dead-letter"');
    // and the codes they select on are the registry's
    const codes = new Set(Object.keys(ERROR_CODES));
    const selected = expressions.flatMap((e) => [...e.matchAll(/\bcode="([A-Z_]+)"/g)].map((m) => m[1]));
    expect(selected.length).toBeGreaterThan(0);
    expect(selected.filter((code) => !codes.has(code as string))).toEqual([]);
  });
});
