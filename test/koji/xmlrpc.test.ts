import { describe, expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import {
  decodeCall,
  decodeResponse,
  encodeCall,
  encodedCallBytes,
  encodeFault,
  encodeResponse,
  type XmlRpcValue,
  xmlRpcDouble,
} from "../../src/koji/xmlrpc/index.js";
import { readCaptures } from "./wire-captures.js";

function roundTrip(value: XmlRpcValue): unknown {
  const decoded = decodeResponse(encodeResponse(value));
  if (decoded.kind !== "result") throw new Error("expected a result");
  return decoded.value;
}

function response(valueXml: string): string {
  return `<?xml version='1.0'?><methodResponse><params><param>${valueXml}</param></params></methodResponse>`;
}

function decodeValue(valueXml: string): unknown {
  const decoded = decodeResponse(response(valueXml));
  if (decoded.kind !== "result") throw new Error("expected a result");
  return decoded.value;
}

function malformedCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ImporterError ? e.code : "not an ImporterError";
  }
  return undefined;
}

describe("XML-RPC round trips", () => {
  it.each<[string, XmlRpcValue]>([
    ["nil", null],
    ["true", true],
    ["false", false],
    ["int zero", 0],
    ["negative int", -42],
    ["int32 max", 2 ** 31 - 1],
    ["int32 min", -(2 ** 31)],
    ["empty string", ""],
    ["string with markup and entities", "a < b && c > d ]]> &amp; \"q\" 'a'"],
    ["string with CR, CRLF, tab, LF", "line1\r\nline2\rline3\n\tend"],
    ["unicode string", "Grüße 🚀 ünïcödé"],
    ["leading/trailing whitespace", "  padded  "],
    ["array", [1, "two", null, false, [3, [4]]]],
    ["empty array", []],
    ["struct", { a: 1, "b c": "d", nested: { deep: [{ x: null }] } }],
    ["empty struct", {}],
  ])("%s", (_name, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it("writes integers beyond int32 as <i8> and reads them back as numbers within 2^53", () => {
    const big = 2 ** 40 + 7;
    expect(encodeResponse(big)).toContain(`<i8>${big}</i8>`);
    expect(roundTrip(big)).toBe(big);
    expect(roundTrip(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(roundTrip(-Number.MAX_SAFE_INTEGER)).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it("reads i8 beyond 2^53 as bigint and writes bigint as <i8>", () => {
    const beyond = 2n ** 53n + 1n;
    expect(encodeResponse(beyond)).toContain(`<i8>${beyond}</i8>`);
    expect(roundTrip(beyond)).toBe(beyond);
    expect(roundTrip(2n ** 63n - 1n)).toBe(2n ** 63n - 1n);
    expect(roundTrip(-(2n ** 63n))).toBe(-(2n ** 63n));
    // A small bigint comes back as a plain number: callers see one type per magnitude, not per origin.
    expect(roundTrip(5n)).toBe(5);
    expect(malformedCode(() => encodeResponse(2n ** 63n))).toBe("KOJI_XMLRPC_UNENCODABLE");
    expect(malformedCode(() => decodeValue("<value><i8>9223372036854775808</i8></value>"))).toBe(
      "KOJI_XMLRPC_MALFORMED",
    );
  });

  it("doubles: fractions, forced doubles, exponent forms, non-finite as Python spells them", () => {
    expect(roundTrip(1795483696.419112)).toBe(1795483696.419112);
    expect(roundTrip(-0.5)).toBe(-0.5);
    expect(encodeResponse(xmlRpcDouble(2))).toContain("<double>2</double>");
    expect(roundTrip(xmlRpcDouble(2))).toBe(2);
    expect(roundTrip(1e300)).toBe(1e300);
    expect(roundTrip(5e-324)).toBe(5e-324);
    expect(roundTrip(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(roundTrip(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(roundTrip(Number.NaN)).toBeNaN();
    expect(decodeValue("<value><double>1.5E3</double></value>")).toBe(1500);
    expect(decodeValue("<value><double>.5</double></value>")).toBe(0.5);
  });

  it("dateTime.iso8601 in Python's form, read back as UTC", () => {
    const when = new Date("2025-07-02T16:29:15Z");
    expect(encodeResponse(when)).toContain("<dateTime.iso8601>20250702T16:29:15</dateTime.iso8601>");
    expect(roundTrip(when)).toEqual(when);
    expect(
      decodeValue("<value><dateTime.iso8601>2025-07-02T16:29:15.250+02:00</dateTime.iso8601></value>"),
    ).toEqual(new Date("2025-07-02T14:29:15.250Z"));
    expect(
      malformedCode(() => decodeValue("<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>")),
    ).toBe("KOJI_XMLRPC_MALFORMED");
  });

  it("base64 as Buffer, including empty and every byte value", () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(roundTrip(all)).toEqual(all);
    expect(roundTrip(Buffer.alloc(0))).toEqual(Buffer.alloc(0));
    expect(roundTrip(new Uint8Array([1, 2, 3]))).toEqual(Buffer.from([1, 2, 3]));
    expect(decodeValue("<value><base64>\n  aGVs\n  bG8=\n</base64></value>")).toEqual(Buffer.from("hello"));
  });

  it("keeps a struct member named __proto__ as data", () => {
    const decoded = decodeValue(
      "<value><struct><member><name>__proto__</name><value><string>x</string></value></member></struct></value>",
    ) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["__proto__"]);
  });

  it("leaves undefined struct members out and writes undefined array items as nil", () => {
    expect(roundTrip({ a: 1, b: undefined })).toEqual({ a: 1 });
    expect(roundTrip([undefined])).toEqual([null]);
  });

  it("refuses what XML cannot carry", () => {
    expect(malformedCode(() => encodeResponse("bell \u0007"))).toBe("KOJI_XMLRPC_UNENCODABLE");
    expect(malformedCode(() => encodeResponse("lone \uD800 surrogate"))).toBe("KOJI_XMLRPC_UNENCODABLE");
    expect(malformedCode(() => encodeResponse(new Date(Number.NaN)))).toBe("KOJI_XMLRPC_UNENCODABLE");
    expect(malformedCode(() => encodeCall("bad name<"))).toBe("KOJI_XMLRPC_UNENCODABLE");
  });
});

describe("XML-RPC decoding details", () => {
  it("reads an untyped value as a string, whitespace kept", () => {
    expect(decodeValue("<value> plain text </value>")).toBe(" plain text ");
    expect(decodeValue("<value></value>")).toBe("");
    expect(decodeValue("<value><string/></value>")).toBe("");
  });

  it("accepts int, i4, i8 and the Apache ex: extensions", () => {
    expect(decodeValue("<value><i4>-7</i4></value>")).toBe(-7);
    expect(decodeValue("<value><int> +12 </int></value>")).toBe(12);
    expect(decodeValue("<value><ex:i8>4294967296</ex:i8></value>")).toBe(4294967296);
    expect(decodeValue("<value><ex:nil/></value>")).toBeNull();
  });

  it("names what is wrong in a malformed document", () => {
    const cases = [
      "not xml at all",
      "<methodResponse><params></params></methodResponse>",
      "<methodResponse><params><param><value><int>1.5</int></value></param></params></methodResponse>",
      "<methodResponse><params><param><value><boolean>yes</boolean></value></param></params></methodResponse>",
      "<methodResponse><params><param><value><float>1</float></value></param></params></methodResponse>",
      "<methodResponse><params><param><value><string>a</string><string>b</string></value></param></params></methodResponse>",
      "<methodResponse><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodResponse>",
      "<methodResponse><fault><value><string>x</string></value></fault></methodResponse>",
      "<methodResponse><params><param><value><string>unclosed</value></param></params></methodResponse>",
      '<!DOCTYPE x [<!ENTITY a "aaaa">]><methodResponse><params><param><value>&a;</value></param></params></methodResponse>',
      "<methodCall><params/></methodCall>",
    ];
    for (const xml of cases) {
      const decode = xml.startsWith("<methodCall") ? decodeCall : decodeResponse;
      expect(
        malformedCode(() => decode(xml)),
        xml,
      ).toBe("KOJI_XMLRPC_MALFORMED");
    }
  });

  it("bounds nesting depth on hostile input", () => {
    const deep = `${"<value><array><data>".repeat(300)}${"</data></array></value>".repeat(300)}`;
    expect(malformedCode(() => decodeResponse(response(deep)))).toBe("KOJI_XMLRPC_MALFORMED");
  });
});

describe("XML-RPC calls and faults", () => {
  it("encodes a call the way Python's client does and decodes it back", () => {
    const xml = encodeCall("CGInitBuild", ["osbuild", { name: "n", version: "1.0", release: "1" }]);
    expect(
      xml.startsWith("<?xml version='1.0'?>\n<methodCall>\n<methodName>CGInitBuild</methodName>\n"),
    ).toBe(true);
    expect(decodeCall(xml)).toEqual({
      methodName: "CGInitBuild",
      params: ["osbuild", { name: "n", version: "1.0", release: "1" }],
    });
    expect(decodeCall(encodeCall("getAPIVersion"))).toEqual({ methodName: "getAPIVersion", params: [] });
    expect(decodeCall("<methodCall><methodName>logout</methodName></methodCall>")).toEqual({
      methodName: "logout",
      params: [],
    });
  });

  it("counts a call's bytes exactly without building it", () => {
    const calls: Array<[string, XmlRpcValue[]]> = [
      ["getAPIVersion", []],
      ["CGImport", [JSON.stringify({ a: "<b> & c\r\n", é: "😀 ü" }), "dir/ü", "0".repeat(64)]],
      ["system.multicall", [[{ methodName: "checkUpload", params: ["d", "x&y<z>"] }]]],
      ["m", [1, 2 ** 40, xmlRpcDouble(1.5), true, null, new Date(0), Buffer.from("bytes"), { "k<": ["v€"] }]],
    ];
    for (const [method, params] of calls)
      expect(encodedCallBytes(method, params)).toBe(Buffer.byteLength(encodeCall(method, params)));
    expect(malformedCode(() => encodedCallBytes("m", ["lone \uDC00"]))).toBe("KOJI_XMLRPC_UNENCODABLE");
  });

  it("round-trips a fault", () => {
    const xml = encodeFault(1007, "session expired <renew>");
    expect(decodeResponse(xml)).toEqual({
      kind: "fault",
      faultCode: 1007,
      faultString: "session expired <renew>",
    });
  });

  it("accepts a Buffer body", () => {
    expect(decodeResponse(Buffer.from(encodeResponse("é")))).toEqual({ kind: "result", value: "é" });
  });
});

describe("real Koji hub captures", () => {
  const captures = readCaptures();

  it("has the captures to test against", () => {
    expect(captures.length).toBeGreaterThanOrEqual(40);
  });

  it.each(captures.map((c) => [c.file, c] as const))("%s decodes", (_file, capture) => {
    if (capture.request.headers["content-type"] === "text/xml") {
      const call = decodeCall(capture.request.body);
      expect(call.methodName).toMatch(/^[A-Za-z.]+$/);
      // What we encode from the decoded call must decode to the same thing.
      expect(decodeCall(encodeCall(call.methodName, call.params))).toEqual(call);
    } else {
      expect(capture.request.headers["content-type"]).toBe("application/octet-stream");
    }
    expect(capture.response.headers["koji-version"]).toBe("1.35.3");
    const reply = decodeResponse(capture.response.body);
    if (reply.kind === "fault") {
      expect(reply.faultCode).toBeGreaterThan(0);
      expect(reply.faultString.length).toBeGreaterThan(0);
      expect(decodeResponse(encodeFault(reply.faultCode, reply.faultString))).toEqual(reply);
    } else {
      expect(decodeResponse(encodeResponse(reply.value))).toEqual(reply);
    }
  });

  it("reads the shapes the client relies on", () => {
    const byMethod = new Map<string, unknown[]>();
    for (const c of captures) {
      if (c.request.headers["content-type"] !== "text/xml") continue;
      const { methodName } = decodeCall(c.request.body);
      const reply = decodeResponse(c.response.body);
      byMethod.set(methodName, [...(byMethod.get(methodName) ?? []), reply]);
    }
    expect(byMethod.get("sslLogin")?.[0]).toEqual({
      kind: "result",
      value: { "session-id": 2, "session-key": "2-P7K4TZVsb7pE8TEbEDc", "header-auth": true },
    });
    const faults = [...byMethod.values()].flat().filter((r) => (r as { kind: string }).kind === "fault");
    expect(faults.length).toBe(5);
  });
});
