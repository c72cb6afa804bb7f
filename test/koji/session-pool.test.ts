import { describe, expect, it } from "vitest";
import { SessionPool } from "../../src/koji/session-pool.js";

/** A login that counts itself and hands out numbered sessions; `fail` makes the next logins fail. */
function logins() {
  const made = { count: 0, fail: 0 };
  const login = async () => {
    await Promise.resolve();
    if (made.fail > 0) {
      made.fail -= 1;
      throw new Error("hub refused the login");
    }
    made.count += 1;
    return { n: made.count };
  };
  return { made, login };
}

describe("SessionPool", () => {
  it("lends an idle session again before it logs in another", async () => {
    const { made, login } = logins();
    const pool = new SessionPool(4, login);
    const first = await pool.lease();
    pool.giveBack(first);
    expect(await pool.lease()).toBe(first);
    expect(made.count).toBe(1);
  });

  it("never lends one session to two callers at once, and logs in no more than its size", async () => {
    const { made, login } = logins();
    const pool = new SessionPool(3, login);
    const held = await Promise.all([pool.lease(), pool.lease(), pool.lease()]);
    expect(new Set(held).size).toBe(3);
    let fourth: { n: number } | undefined;
    const waiting = pool.lease().then((s) => {
      fourth = s;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fourth).toBeUndefined();
    pool.giveBack(held[1] as { n: number });
    await waiting;
    expect(fourth).toBe(held[1]);
    expect(made.count).toBe(3);
  });

  it("serves waiting callers in the order they came", async () => {
    const { login } = logins();
    const pool = new SessionPool(1, login);
    const only = await pool.lease();
    const order: string[] = [];
    const a = pool.lease().then((s) => {
      order.push("a");
      return s;
    });
    const b = pool.lease().then(() => order.push("b"));
    pool.giveBack(only);
    pool.giveBack(await a);
    await b;
    expect(order).toEqual(["a", "b"]);
  });

  it("a discarded session frees its place: a waiting caller logs in a new one", async () => {
    const { made, login } = logins();
    const pool = new SessionPool(1, login);
    const expired = await pool.lease();
    const next = pool.lease();
    pool.discard(expired);
    pool.giveBack(expired);
    const fresh = await next;
    expect(fresh).not.toBe(expired);
    expect(made.count).toBe(2);
    expect(pool.size).toBe(1);
  });

  it("a failed login fails its caller only; the next caller logs in", async () => {
    const { made, login } = logins();
    const pool = new SessionPool(1, login);
    made.fail = 1;
    const [failed, succeeded] = await Promise.allSettled([pool.lease(), pool.lease()]);
    expect(failed.status).toBe("rejected");
    expect(succeeded.status).toBe("fulfilled");
    expect(pool.size).toBe(1);
  });

  it("drain hands every open session back for logout; a lease still out is dropped on return", async () => {
    const { login } = logins();
    const pool = new SessionPool(2, login);
    const [a, b] = await Promise.all([pool.lease(), pool.lease()]);
    pool.giveBack(a);
    expect(pool.drain()).toEqual([a, b]);
    pool.giveBack(b);
    expect(pool.size).toBe(0);
    expect(await pool.lease()).not.toBe(b);
  });

  it("refuses a size below one", () => {
    expect(() => new SessionPool(0, logins().login)).toThrow(/>= 1/);
  });
});
