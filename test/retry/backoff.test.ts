import { describe, expect, it } from "vitest";
import { type Backoff, backoffDelay } from "../../src/retry/backoff.js";

const BACKOFF: Backoff = { baseDelayMs: 100, maxDelayMs: 1_000 };
/** The largest value Math.random can return. */
const ALMOST_ONE = 1 - Number.EPSILON;

describe("backoffDelay (full jitter)", () => {
  it("waits from nothing up to the whole window, which doubles per retry", () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, BACKOFF, () => 0))).toEqual([0, 0, 0, 0]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, BACKOFF, () => 0.5))).toEqual([50, 100, 200, 400]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, BACKOFF, () => ALMOST_ONE))).toEqual([100, 200, 400, 800]);
  });

  it("never waits longer than the cap, however many retries", () => {
    for (const retry of [4, 5, 10, 60, 1_000, 1e9, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelay(retry, BACKOFF, () => ALMOST_ONE)).toBe(1_000);
      expect(backoffDelay(retry, BACKOFF, () => 0.5)).toBe(500);
    }
    // A cap below the base caps the first wait too.
    expect(backoffDelay(0, { baseDelayMs: 5_000, maxDelayMs: 300 }, () => ALMOST_ONE)).toBe(300);
  });

  it("stays a whole number of milliseconds in [0, window] for any random value, odd ones included", () => {
    for (const value of [-1, 0, 0.123456, 0.5, ALMOST_ONE, 1, 7, Number.NaN]) {
      for (const retry of [0, 1, 3, 20]) {
        const window = Math.min(1_000, 100 * 2 ** retry);
        const wait = backoffDelay(retry, BACKOFF, () => value);
        expect(Number.isInteger(wait), `random ${value}, retry ${retry}`).toBe(true);
        expect(wait).toBeGreaterThanOrEqual(0);
        expect(wait).toBeLessThanOrEqual(window);
      }
    }
  });

  it("reads a negative or fractional retry as the first, and a zero base as no wait", () => {
    expect(backoffDelay(-3, BACKOFF, () => ALMOST_ONE)).toBe(100);
    expect(backoffDelay(1.7, BACKOFF, () => ALMOST_ONE)).toBe(200);
    expect(backoffDelay(10, { baseDelayMs: 0, maxDelayMs: 1_000 }, () => ALMOST_ONE)).toBe(0);
  });

  it("spreads Math.random's waits over the whole window, so workers failing together do not retry together", () => {
    for (const retry of [0, 2, 8]) {
      const window = Math.min(1_000, 100 * 2 ** retry);
      const waits = Array.from({ length: 2_000 }, () => backoffDelay(retry, BACKOFF));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...waits)).toBeLessThanOrEqual(window);
      // 2 000 uniform draws: below 10 % and above 90 % of the window both occur (a miss is ~1e-91 likely).
      expect(waits.some((wait) => wait < window * 0.1)).toBe(true);
      expect(waits.some((wait) => wait > window * 0.9)).toBe(true);
      const mean = waits.reduce((sum, wait) => sum + wait, 0) / waits.length;
      expect(mean / window).toBeGreaterThan(0.4);
      expect(mean / window).toBeLessThan(0.6);
    }
  });
});
