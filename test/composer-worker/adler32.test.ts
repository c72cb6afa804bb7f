import { randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Adler32, adler32Combine, adler32Hex } from "../fakes/adler32.js";

/** zlib's own adler32, read from the trailer of a zlib stream: an independent reference. */
function zlibAdler32(data: Uint8Array): string {
  const z = deflateSync(data, { level: 0 });
  return z.subarray(z.length - 4).toString("hex");
}

describe("adler32", () => {
  it("matches published values", () => {
    expect(adler32Hex(Buffer.alloc(0))).toBe("00000001");
    expect(adler32Hex(Buffer.from("a"))).toBe("00620062");
    expect(adler32Hex(Buffer.from("abc"))).toBe("024d0127");
    expect(adler32Hex(Buffer.from("Wikipedia"))).toBe("11e60398");
    expect(adler32Hex(Buffer.from("The quick brown fox jumps over the lazy dog"))).toBe("5bdc0fda");
  });

  it("matches zlib on worst-case bytes (all 0xff) across block boundaries", () => {
    for (const size of [1, 3, 4, 7, 3759, 3760, 3761, 5552, 5553, 65536, 1_000_003]) {
      const data = Buffer.alloc(size, 0xff);
      expect(adler32Hex(data), `size ${size}`).toBe(zlibAdler32(data));
    }
  });

  it("matches zlib on random data at every alignment and split", () => {
    const data = randomBytes(200_011);
    for (let offset = 0; offset < 8; offset++) {
      const view = data.subarray(offset);
      expect(adler32Hex(view)).toBe(zlibAdler32(view));
    }
    const whole = zlibAdler32(data);
    for (const parts of [[1], [3, 5, 7], [4096, 1], [65536, 65536], [99_999, 2]]) {
      const sum = new Adler32();
      let at = 0;
      let k = 0;
      while (at < data.length) {
        const size = parts[k++ % parts.length] as number;
        sum.update(data.subarray(at, at + size));
        at += size;
      }
      expect(sum.hexdigest(), `parts ${parts.join(",")}`).toBe(whole);
    }
  });

  it("handles empty updates on an unaligned view", () => {
    const data = randomBytes(16);
    const sum = new Adler32()
      .update(data.subarray(3, 3))
      .update(data.subarray(1, 2))
      .update(data.subarray(2, 2));
    expect(sum.hexdigest()).toBe(adler32Hex(data.subarray(1, 2)));
  });

  it("combines the values of consecutive pieces into the whole's", () => {
    const data = randomBytes(300_000);
    for (const cut of [0, 1, 65521, 131_042, 299_999, 300_000]) {
      const first = new Adler32().update(data.subarray(0, cut)).digest();
      const second = new Adler32().update(data.subarray(cut)).digest();
      const combined = adler32Combine(first, second, data.length - cut);
      expect(combined.toString(16).padStart(8, "0"), `cut ${cut}`).toBe(adler32Hex(data));
    }
    const ones = Buffer.alloc(70_000, 0xff);
    const half = new Adler32().update(ones.subarray(0, 35_000)).digest();
    expect(adler32Combine(half, half, 35_000).toString(16).padStart(8, "0")).toBe(zlibAdler32(ones));
  });
});
