import { type HttpCode, httpStatusOf } from "../error-codes.js";

/** An error the admin API answers with: a stable `error` code, its HTTP status (src/error-codes.ts), a message. */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: HttpCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.status = httpStatusOf(code);
  }
}

export const notFound = (what: string) => new HttpError("NOT_FOUND", `${what} not found`);
