/**
 * Validates a rendered manifest against its API schema, offline: kubernetes-models carries the Kubernetes
 * OpenAPI schemas (types, required fields, enums, formats) compiled for ajv, @kubernetes-models/prometheus-operator
 * and @kubernetes-models/keda the CRDs the chart renders. Returns the problems, none when valid.
 */
const CRD_PACKAGES: Record<string, string> = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "keda.sh": "@kubernetes-models/keda",
};

function modelPath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (!group) return `kubernetes-models/${version}/${kind}`;
  const pkg = CRD_PACKAGES[group as string];
  return pkg ? `${pkg}/${group}/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

export async function validateManifest(manifest: Record<string, any>): Promise<string[]> {
  let Model: new (data: unknown) => { validate(): void };
  try {
    const loaded = await import(modelPath(manifest.apiVersion, manifest.kind));
    Model = loaded[manifest.kind] ?? loaded.default;
  } catch {
    return [`no schema for ${manifest.apiVersion} ${manifest.kind}`];
  }
  try {
    new Model(manifest).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}
