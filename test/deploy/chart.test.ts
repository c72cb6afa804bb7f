import { readdirSync, readFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EnvSchema } from "../../src/config/schema.js";

const CHART = new URL("../../helm/osbuild-koji-importer/", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, CHART), "utf8");
const schema = JSON.parse(read("values.schema.json"));
const values = parse(read("values.yaml"));
const templates = readdirSync(new URL("templates/", CHART));
const templateText = templates.map((t) => read(`templates/${t}`)).join("\n");
const EXAMPLES = readdirSync(new URL("examples/", CHART)).map((f) => `examples/${f}`);

/** values.yaml with an example laid over it, as helm merges them (maps merge, lists and scalars replace). */
function merged(file: string): any {
  const over = (a: any, b: any): any => {
    if (typeof a !== "object" || a === null || Array.isArray(a) || typeof b !== "object" || Array.isArray(b))
      return b;
    const out = { ...a };
    for (const [key, value] of Object.entries(b ?? {})) out[key] = over(a[key], value);
    return out;
  };
  return over(structuredClone(values), parse(read(file)));
}

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  // ajv-formats is CommonJS; its default export is the plugin function.
  (addFormatsModule as unknown as (a: Ajv) => Ajv)(ajv);
  return ajv.compile(schema);
}

describe("Helm chart", () => {
  it("every example validates against values.schema.json; the defaults alone do not, naming the fields", () => {
    const validate = validator();
    for (const file of EXAMPLES) {
      const ok = validate(merged(file));
      expect(validate.errors ?? [], file).toEqual([]);
      expect(ok).toBe(true);
    }
    expect(validate(values)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toContain("/kojiHubs");
    expect(paths).toContain("/secrets/composerClientSecret/name");
  });

  it("the schema refuses what cannot start: missing secrets for the chosen auth, no principal, no token", () => {
    const validate = validator();
    const base = merged("examples/minimal-values.yaml");
    const refused = (patch: (v: any) => void) => {
      const copy = structuredClone(base);
      patch(copy);
      return validate(copy) ? [] : (validate.errors ?? []).map((e) => e.instancePath);
    };
    expect(refused(() => undefined)).toEqual([]);
    expect(refused((v) => (v.config.composer.auth = "oauth"))).toContain(
      "/secrets/composerClientSecret/name",
    );
    expect(refused((v) => (v.config.composer.auth = "mtls"))).toContain("/secrets/composerClientCert/name");
    expect(refused((v) => (v.config.admin.metricsAuth = "token"))).toContain("/secrets/adminToken/name");
    expect(refused((v) => (v.config.admin.readAuth = "token"))).toContain("/secrets/adminToken/name");
    expect(refused((v) => (v.kojiHubs[0].auth = "gssapi"))).toContain("/kojiHubs/0");
    expect(refused((v) => (v.kojiHubs[0].secretName = ""))).toContain("/kojiHubs/0/secretName");
    expect(refused((v) => (v.secrets.databaseUrl.name = ""))).toContain("/secrets/databaseUrl/name");
    expect(refused((v) => (v.keda = { ...v.keda, enabled: true, hostSecretName: "" }))).toContain(
      "/keda/hostSecretName",
    );
  });

  it("the schema rejects a secret put in values and an unknown key", () => {
    const validate = validator();
    expect(
      validate({ ...values, secrets: { ...values.secrets, databaseUrl: "postgres://user:pw@db/x" } }),
    ).toBe(false);
    expect(validate({ ...values, replicas: 3 })).toBe(false);
  });

  it("every .Values path a template uses exists in values.yaml", () => {
    const paths = new Set(
      [...templateText.matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)/g)].map((m) => m[1] as string),
    );
    const missing = [...paths].filter((path) => {
      let node: unknown = values;
      for (const key of path.slice(1).split(".")) {
        if (typeof node !== "object" || node === null || !(key in node)) return true;
        node = (node as Record<string, unknown>)[key];
      }
      return false;
    });
    expect(paths.size).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it("every template is listed in the chart README", () => {
    const readme = read("README.md");
    expect(templates.filter((t) => !readme.includes(`\`${t}\``))).toEqual([]);
  });

  it("every environment variable the chart sets is one the service reads", () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    const names = new Set([
      ...[...read("templates/configmap.yaml").matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map(
        (m) => m[1] as string,
      ),
      ...[...templateText.matchAll(/- name: ([A-Z][A-Z0-9_]+)/g)].map((m) => m[1] as string),
    ]);
    // Read by libraries rather than src/config: KRB5_CONFIG by MIT Kerberos (auth gssapi).
    const libraries = new Set(["KRB5_CONFIG"]);
    const unknown = [...names].filter(
      (n) => !known.has(n) && !known.has(n.replace(/_FILE$/, "")) && !libraries.has(n),
    );
    expect(names.size).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });

  it("a gssapi hub needs its principal; krb5.conf comes from a ConfigMap named by KRB5_CONFIG", () => {
    const validate = validator();
    const gssapi = { url: "https://koji.example.org/kojihub", auth: "gssapi", secretName: "koji-keytab" };
    const base = merged("examples/minimal-values.yaml");
    expect(validate({ ...base, kojiHubs: [gssapi] })).toBe(false);
    expect(validate({ ...base, kojiHubs: [{ ...gssapi, principal: "osbuild@EXAMPLE.ORG" }] })).toBe(true);
    const helpers = read("templates/_helpers.tpl");
    expect(helpers).toMatch(/name: KRB5_CONFIG\n\s+value: \/etc\/osbuild-koji-importer\/krb5\/krb5\.conf/);
    expect(helpers).toMatch(/configMap:\n\s+name: \{\{ \.Values\.kerberos\.krb5ConfigMap \}\}/);
    expect(helpers).toMatch(/mountPath: \/etc\/osbuild-koji-importer\/krb5\n\s+readOnly: true/);
    expect(helpers).toContain('"keytab_file" (printf "%s/keytab" $dir)');
  });
});
