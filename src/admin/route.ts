import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { describeArgumentIssues, formatPath } from "../validation.js";
import type { AdminAuth, RouteAccess } from "./auth.js";
import { HttpError } from "./errors.js";

/** One route as the OpenAPI document lists it. */
export interface RouteDoc {
  method: "GET" | "POST";
  url: string;
  summary: string;
  access: RouteAccess;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  response: z.ZodType;
  errors: number[];
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

function parsePart<S extends z.ZodType>(schema: S | undefined, input: unknown, where: string): z.infer<S> {
  if (!schema) return undefined as z.infer<S>;
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw new HttpError(
    "INVALID_REQUEST",
    describeArgumentIssues(result.error, (field) => `${where}.${field}`),
    {
      field: first ? `${where}.${formatPath(first.path)}` : where,
    },
  );
}

export type RouteSpec<P, Q, B> = Omit<RouteDoc, "params" | "query" | "body"> & {
  params?: P;
  query?: Q;
  body?: B;
};

type Parsed<S> = S extends z.ZodType ? z.infer<S> : undefined;

export type Router = <
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(
  spec: RouteSpec<P, Q, B>,
  handler: (input: RouteInput<Parsed<P>, Parsed<Q>, Parsed<B>>) => Promise<unknown>,
) => void;

/**
 * Declares routes: each request part is parsed with zod (400 naming the field), access is checked, and the same
 * schemas describe the route in /openapi.json, so the document cannot drift from what the server accepts.
 */
export function createRouter(app: FastifyInstance, docs: RouteDoc[], auth: AdminAuth): Router {
  return (spec, handler) => {
    docs.push(spec as RouteDoc);
    app.route({
      method: spec.method,
      url: spec.url.replace(/\{(\w+)\}/g, ":$1"),
      handler: async (request, reply) => {
        auth.check(request, spec.access);
        const params = parsePart(spec.params, request.params, "path");
        const query = parsePart(spec.query, request.query, "query");
        const body = parsePart(spec.body, request.body, "body");
        return handler({ params, query, body, request, reply } as never);
      },
    });
  };
}

export const ErrorBodySchema = z.object({
  error: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
