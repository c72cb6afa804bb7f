import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

/**
 * composer's published Cloud API v2 document is not ours to ship: its path comes from `COMPOSER_OPENAPI_FILE`
 * (CI points it at the team's copy). Without it the checks against it report themselves skipped, with this reason.
 */
export const COMPOSER_SPEC_FILE = process.env.COMPOSER_OPENAPI_FILE || undefined;
export const COMPOSER_SPEC_SKIPPED = COMPOSER_SPEC_FILE
  ? undefined
  : "skipped: COMPOSER_OPENAPI_FILE names no copy of composer's published OpenAPI document";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The spec with every `$ref` resolved in place (shared objects; may contain cycles). */
export interface ComposerSpec {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Json> };
}

export async function loadComposerSpec(): Promise<ComposerSpec> {
  if (!COMPOSER_SPEC_FILE) throw new Error(COMPOSER_SPEC_SKIPPED);
  return (await SwaggerParser.dereference(COMPOSER_SPEC_FILE)) as unknown as ComposerSpec;
}

/**
 * OpenAPI 3.0 schemas are not quite JSON Schema: `nullable: true` means "or null" (JSON Schema spells it with a
 * type list) and `example`, `x-go-*` and friends are annotations Ajv's strict mode would reject. Copies the schema
 * with those rewritten, keeping shared and cyclic references shared.
 */
export function toJsonSchema(schema: Json, seen = new Map<object, Json>()): Json {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item, seen));
  if (schema === null || typeof schema !== "object") return schema;
  const done = seen.get(schema);
  if (done !== undefined) return done;
  const out: { [key: string]: Json } = {};
  seen.set(schema, out);
  for (const [key, value] of Object.entries(schema)) {
    if (key === "nullable" || key === "example" || key === "examples" || key.startsWith("x-")) continue;
    // `properties` maps names to schemas: its keys are field names, not keywords, so keep them all.
    if (key === "properties" && value !== null && typeof value === "object" && !Array.isArray(value)) {
      const properties: { [key: string]: Json } = {};
      for (const [name, property] of Object.entries(value)) properties[name] = toJsonSchema(property, seen);
      out[key] = properties;
      continue;
    }
    out[key] = toJsonSchema(value, seen);
  }
  if (schema.nullable === true) {
    if (typeof out.type === "string") out.type = [out.type, "null"];
    else if (out.enum !== undefined && Array.isArray(out.enum)) out.enum = [...out.enum, null];
    else if (out.type === undefined) return out; // untyped: null already allowed
  }
  return out;
}

/** Ajv validators for components/schemas entries, formats included (uuid, uri; the spec's own binary, uint64). */
export function specValidator(spec: ComposerSpec): (name: string) => ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  addFormats(ajv);
  ajv.addFormat("binary", true);
  ajv.addFormat("uint64", /^\d+$/);
  const compiled = new Map<string, ValidateFunction>();
  return (name) => {
    const cached = compiled.get(name);
    if (cached) return cached;
    const schema = spec.components.schemas[name];
    if (schema === undefined) throw new Error(`the spec has no components.schemas.${name}`);
    const validate = ajv.compile(toJsonSchema(schema) as object);
    compiled.set(name, validate);
    return validate;
  };
}
