import { describe, expect, it } from "vitest";
import { apiRoot, composePath } from "../../src/composer/paths.js";
import { parseRetryAfter } from "../../src/composer/retry-after.js";

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("7")).toBe(7_000);
    expect(parseRetryAfter(["2", "9"])).toBe(2_000);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    const now = Date.parse("2026-03-02T10:00:00Z");
    expect(parseRetryAfter("Mon, 02 Mar 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Mon, 02 Mar 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("")).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

describe("paths", () => {
  it("finds the API root from an origin or from the root itself", () => {
    const expected = "https://composer.example.com/api/image-builder-composer/v2";
    for (const url of [
      "https://composer.example.com",
      "https://composer.example.com/",
      "https://composer.example.com/api/image-builder-composer/v2",
      "https://composer.example.com/api/image-builder-composer/v2/",
    ]) {
      expect(apiRoot(url).href).toBe(expected);
    }
    expect(apiRoot("https://gw.example.com/composer").href).toBe(
      "https://gw.example.com/composer/api/image-builder-composer/v2",
    );
  });

  it("encodes the compose id so it stays one path segment", () => {
    expect(composePath("logs", "a/../b")).toBe("/composes/a%2F..%2Fb/logs");
  });
});
