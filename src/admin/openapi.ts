import { z } from "zod";
import { ErrorBodySchema, type RouteDoc } from "./route.js";

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: "openapi-3.0", io: "input", unrepresentable: "any" });

function parameters(doc: RouteDoc) {
  const out: Array<Record<string, unknown>> = [];
  for (const [where, obj] of [
    ["path", doc.params],
    ["query", doc.query],
  ] as const) {
    if (!obj) continue;
    for (const [name, field] of Object.entries(obj.shape)) {
      out.push({
        name,
        in: where,
        required: where === "path" || !(field as z.ZodType).safeParse(undefined).success,
        schema: schema(field as z.ZodType),
      });
    }
  }
  return out;
}

/** The OpenAPI 3 document of the admin API, made from the routes' own zod schemas. */
export function openApiDocument(docs: readonly RouteDoc[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of docs) {
    const responses: Record<string, unknown> = {
      200: { description: "OK", content: { "application/json": { schema: schema(doc.response) } } },
    };
    for (const status of doc.errors) {
      responses[status] = {
        description: "Error",
        content: { "application/json": { schema: schema(ErrorBodySchema) } },
      };
    }
    paths[doc.url] ??= {};
    (paths[doc.url] as Record<string, unknown>)[doc.method.toLowerCase()] = {
      summary: doc.summary,
      parameters: parameters(doc),
      ...(doc.body
        ? { requestBody: { required: true, content: { "application/json": { schema: schema(doc.body) } } } }
        : {}),
      ...(doc.access === "write" ? { security: [{ bearer: [] }] } : {}),
      responses,
    };
  }
  return {
    openapi: "3.0.3",
    info: { title: "osbuild-koji-importer admin API", version },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
