import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/admin/errors.js";
import { isErrorCode, isStoreFailure } from "../../src/error-codes.js";
import { permanentError, retryableError } from "../../src/errors.js";

/**
 * The registry's types are the point: `npm run typecheck` fails when a `@ts-expect-error` below stops being an
 * error, so these lines prove that an unknown code, or a code of the other class, does not compile.
 */
describe("the error-code registry", () => {
  it("is all the error classes accept, each code with its class", () => {
    // @ts-expect-error: no such code
    expect(permanentError("NO_SUCH_CODE", "x").code).toBe("NO_SUCH_CODE");
    // @ts-expect-error: KOJI_TRANSPORT is retryable
    expect(permanentError("KOJI_TRANSPORT", "x").retryable).toBe(false);
    // @ts-expect-error: EVENT_INVALID is permanent
    expect(retryableError("EVENT_INVALID", "x").retryable).toBe(true);
    // A per-instance code takes either class.
    expect(retryableError("KOJI_FAULT", "x").errorClass).toBe("retryable");
    expect(permanentError("KOJI_FAULT", "x").errorClass).toBe("permanent");
  });

  it("gives the admin API's answers their status", () => {
    expect(new HttpError("NOT_FOUND", "x").status).toBe(404);
    expect(new HttpError("BROKER_UNAVAILABLE", "x").status).toBe(503);
    // @ts-expect-error: the admin API never answers with KOJI_FAULT
    expect(new HttpError("KOJI_FAULT", "x").status).toBeUndefined();
  });

  it("knows its codes from any other string, a stored code of an older version say", () => {
    expect(isErrorCode("KOJI_FAULT")).toBe(true);
    expect(isErrorCode("KOJI_UPLOAD_VERIFY")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode(null)).toBe(false);
  });

  it("tells the importer's own database failing from what it was doing", () => {
    expect(isStoreFailure("STORE_STATE_CONFLICT")).toBe(true);
    expect(isStoreFailure("STORE_UNAVAILABLE")).toBe(true);
    expect(isStoreFailure("KOJI_FAULT")).toBe(false);
  });
});
