import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { HttpError } from "./errors.js";

/**
 * What a route needs: `health` is never asked for a token (Kubernetes probes send none), `metrics` follows
 * ADMIN_METRICS_AUTH, `read` follows ADMIN_READ_AUTH, `write` always needs the token.
 */
export type RouteAccess = "health" | "metrics" | "read" | "write";

export interface AdminAuth {
  check(request: FastifyRequest, access: RouteAccess): void;
}

export interface AccessSettings {
  /** ADMIN_READ_AUTH */
  read: "open" | "token";
  /** ADMIN_METRICS_AUTH */
  metrics: "open" | "token";
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Bearer-token access. Health routes are always open; mutating routes always need the token; read routes and
 * /metrics need it when their setting says "token".
 * Tokens are compared as SHA-256 digests with timingSafeEqual: equal lengths, constant time. With no token
 * configured, mutating routes are refused rather than left open.
 */
export function bearerAuth(token: string | undefined, settings: AccessSettings): AdminAuth {
  const expected = token ? digest(token) : undefined;
  return {
    check(request, access) {
      if (access === "health") return;
      if (access === "read" && settings.read === "open") return;
      if (access === "metrics" && settings.metrics === "open") return;
      if (!expected) {
        throw new HttpError("UNAUTHORIZED", "this route needs ADMIN_TOKEN to be configured on the server");
      }
      const header = request.headers.authorization ?? "";
      const match = /^Bearer (.+)$/.exec(header);
      if (!match || !timingSafeEqual(digest(match[1] as string), expected)) {
        throw new HttpError("UNAUTHORIZED", "missing or wrong bearer token");
      }
    },
  };
}
