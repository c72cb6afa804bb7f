import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { COMPOSER_BASE_PATH, COMPOSER_ENDPOINTS } from "../../src/composer/paths.js";
import {
  ComposeLogsSchema,
  ComposeManifestsSchema,
  ComposeSBOMsSchema,
  ComposeStatusSchema,
} from "../../src/schemas/composer.js";
import { type FakeEndpoint, schemaViolatingBody } from "../fakes/composer/faults.js";
import { startFakeComposer } from "../fakes/composer/server.js";
import {
  COMPOSER_SPEC_FILE,
  COMPOSER_SPEC_SKIPPED,
  type ComposerSpec,
  loadComposerSpec,
  specValidator,
} from "./openapi.js";

/**
 * Drift guard: the client's requests and every compose fixture are checked against composer's published OpenAPI
 * document itself, not against our zod schemas, so a renamed path or field upstream fails here.
 */

const OWN_FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const SHARED_FIXTURES = new URL("../fixtures/composes/", import.meta.url).pathname;

const SCHEMA_OF_FILE = {
  "status.json": "ComposeStatus",
  "logs.json": "ComposeLogs",
  "manifests.json": "ComposeManifests",
  "sboms.json": "ComposeSBOMs",
} as const;

function fixtureFiles(): Array<{ file: string; schema: string }> {
  const out: Array<{ file: string; schema: string }> = [];
  for (const dir of [OWN_FIXTURES, SHARED_FIXTURES]) {
    if (!existsSync(dir)) continue;
    for (const compose of readdirSync(dir, { withFileTypes: true })) {
      if (!compose.isDirectory()) continue;
      for (const [name, schema] of Object.entries(SCHEMA_OF_FILE)) {
        const file = join(dir, compose.name, name);
        if (existsSync(file)) out.push({ file, schema });
      }
    }
  }
  return out;
}

let spec: ComposerSpec;
let validator: ReturnType<typeof specValidator>;

// Vitest prints a skipped block's title, so the reason shows in the run's output, not only in this file.
const against = (title: string) => (COMPOSER_SPEC_SKIPPED ? `${title} (${COMPOSER_SPEC_SKIPPED})` : title);
const withSpec = describe.skipIf(COMPOSER_SPEC_SKIPPED !== undefined);

beforeAll(async () => {
  if (COMPOSER_SPEC_SKIPPED) return;
  spec = await loadComposerSpec();
  validator = specValidator(spec);
});

withSpec(against("client requests against composer's published OpenAPI document"), () => {
  it("uses the spec's base path", async () => {
    const raw = readFileSync(COMPOSER_SPEC_FILE as string, "utf8");
    expect(raw).toContain(`url: ${COMPOSER_BASE_PATH}`);
  });

  for (const [name, { method, path }] of Object.entries(COMPOSER_ENDPOINTS)) {
    it(`${name}: ${method} ${path} exists in the spec with a 200 response`, () => {
      const operations = spec.paths[path];
      expect(operations, `path ${path} not in spec`).toBeDefined();
      const operation = operations?.[method.toLowerCase()] as
        | { responses?: Record<string, unknown> }
        | undefined;
      expect(operation, `${method} ${path} not in spec`).toBeDefined();
      expect(Object.keys(operation?.responses ?? {})).toContain("200");
    });
  }
});

const files = fixtureFiles();

describe("compose fixtures", () => {
  it("are found (own ones at least: every endpoint's schema covered)", () => {
    const schemas = new Set(files.map((f) => f.schema));
    expect([...schemas].sort()).toEqual(["ComposeLogs", "ComposeManifests", "ComposeSBOMs", "ComposeStatus"]);
  });

  const zodSchemas: Record<string, z.ZodType> = {
    ComposeStatus: ComposeStatusSchema,
    ComposeLogs: ComposeLogsSchema,
    ComposeManifests: ComposeManifestsSchema,
    ComposeSBOMs: ComposeSBOMsSchema,
  };

  for (const { file, schema } of files) {
    const name = file.split("/").slice(-3).join("/");
    // The client parses with the zod schemas; a fixture both accept keeps the two views of the API in step.
    it(`${name} parses with the client's ${schema} zod schema`, () => {
      const result = zodSchemas[schema]?.safeParse(JSON.parse(readFileSync(file, "utf8")));
      expect(result?.error?.issues ?? [], JSON.stringify(result?.error?.issues)).toEqual([]);
    });
  }
});

withSpec(against("compose fixtures against the spec's schemas"), () => {
  for (const { file, schema } of files) {
    const name = file.split("/").slice(-3).join("/");
    it(`${name} is a valid ${schema} for the spec`, () => {
      const validate = validator(schema);
      const ok = validate(JSON.parse(readFileSync(file, "utf8")));
      expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
      expect(ok).toBe(true);
    });
  }
});

withSpec(against("the fake composer's own bodies against the spec"), () => {
  const cases: Array<[Exclude<FakeEndpoint, "download">, string]> = [
    ["status", "ComposeStatus"],
    ["logs", "ComposeLogs"],
    ["manifests", "ComposeManifests"],
    ["sboms", "ComposeSBOMs"],
  ];
  for (const [endpoint, schema] of cases) {
    it(`its schema-violating ${endpoint} body is invalid for the spec too`, () => {
      const body = schemaViolatingBody(endpoint, "8c6b1f5e-3f0d-4d8e-9a43-2f6f0e6b9c11");
      expect(validator(schema)(body)).toBe(false);
    });
  }

  it("its error responses are the spec's Error document", async () => {
    const fake = await startFakeComposer();
    try {
      const response = await fetch(`${fake.apiUrl}/composes/00000000-0000-4000-8000-000000000000`);
      expect(response.status).toBe(404);
      const validate = validator("Error");
      expect(validate(await response.json()), JSON.stringify(validate.errors)).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
