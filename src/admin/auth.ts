import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { HttpError } from "./errors.js";

export interface AdminAuth {
  check(request: FastifyRequest, access: "read" | "write"): void;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Bearer-token access. Mutating routes always need the token; read routes need it when `readAccess` is "token".
 * Tokens are compared as SHA-256 digests with timingSafeEqual: equal lengths, constant time. With no token
 * configured, mutating routes are refused rather than left open.
 */
export function bearerAuth(token: string | undefined, readAccess: "open" | "token"): AdminAuth {
  const expected = token ? digest(token) : undefined;
  return {
    check(request, access) {
      if (access === "read" && readAccess === "open") return;
      if (!expected) {
        throw new HttpError(
          401,
          "UNAUTHORIZED",
          "this route needs ADMIN_TOKEN to be configured on the server",
        );
      }
      const header = request.headers.authorization ?? "";
      const match = /^Bearer (.+)$/.exec(header);
      if (!match || !timingSafeEqual(digest(match[1] as string), expected)) {
        throw new HttpError(401, "UNAUTHORIZED", "missing or wrong bearer token");
      }
    },
  };
}
