import { SaxesParser } from "saxes";
import { permanentError } from "../../errors.js";
import { INT64_MAX, INT64_MIN, type XmlRpcCall, type XmlRpcDecoded, type XmlRpcResponse } from "./value.js";

/**
 * XML-RPC documents are small and shallow, so the SAX events first build a minimal element tree (names, children,
 * text) and the tree is then read strictly. Doctypes are refused outright: XML-RPC never needs one, and refusing
 * them closes the door on entity-expansion tricks.
 */

interface Element {
  name: string;
  children: Element[];
  text: string;
}

/** Deeper than any Koji reply nests; bounds the recursion when reading hostile input. */
const MAX_DEPTH = 200;

function malformed(message: string, cause?: unknown): Error {
  return permanentError("KOJI_XMLRPC_MALFORMED", `XML-RPC: ${message}`, cause === undefined ? {} : { cause });
}

function parseTree(xml: string): Element {
  const parser = new SaxesParser({ position: false });
  const root: Element = { name: "#document", children: [], text: "" };
  const stack: Element[] = [root];
  let failure: Error | undefined;
  parser.on("error", (e) => {
    failure ??= e;
  });
  parser.on("doctype", () => {
    failure ??= new Error("a DOCTYPE is not allowed");
  });
  parser.on("opentag", (tag) => {
    if (stack.length > MAX_DEPTH) {
      failure ??= new Error(`elements nested deeper than ${MAX_DEPTH}`);
      return;
    }
    const element: Element = { name: tag.name, children: [], text: "" };
    stack[stack.length - 1]?.children.push(element);
    stack.push(element);
  });
  parser.on("closetag", () => {
    if (stack.length > 1) stack.pop();
  });
  const onText = (text: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += text;
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  try {
    parser.write(xml).close();
  } catch (e) {
    failure ??= e instanceof Error ? e : new Error(String(e));
  }
  if (failure) throw malformed(`not well-formed XML: ${failure.message}`, failure);
  return root;
}

function only(parent: Element, name: string): Element {
  const [first, ...rest] = parent.children;
  if (!first || rest.length > 0 || first.name !== name) {
    const found = parent.children.map((c) => `<${c.name}>`).join(", ") || "nothing";
    throw malformed(`<${parent.name}> must hold exactly one <${name}>, found ${found}`);
  }
  return first;
}

function leafText(element: Element): string {
  if (element.children.length > 0) throw malformed(`<${element.name}> must not contain elements`);
  return element.text;
}

const INTEGER = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATE_TIME = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Integers within 2^53 are numbers; beyond that a bigint, so a Koji id or size never silently loses digits. */
function readInteger(text: string, type: string): number | bigint {
  const trimmed = text.trim();
  if (!INTEGER.test(trimmed)) throw malformed(`<${type}> holds ${JSON.stringify(text)}, not an integer`);
  const big = BigInt(trimmed);
  if (big < INT64_MIN || big > INT64_MAX) throw malformed(`<${type}> ${trimmed} is outside 64 bits`);
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

function readDouble(text: string): number {
  const trimmed = text.trim();
  // Python writes non-finite floats as inf/-inf/nan; accept what Python's own reader accepts.
  const special: Record<string, number> = {
    inf: Infinity,
    "+inf": Infinity,
    "-inf": -Infinity,
    nan: Number.NaN,
  };
  const lowered = trimmed.toLowerCase();
  if (lowered in special) return special[lowered] as number;
  if (!DOUBLE.test(trimmed)) throw malformed(`<double> holds ${JSON.stringify(text)}, not a number`);
  return Number(trimmed);
}

/** Python's `20250702T16:29:15` and ISO 8601 with dashes, fraction and zone; no zone means UTC. */
function readDateTime(text: string): Date {
  const m = DATE_TIME.exec(text.trim());
  if (!m) throw malformed(`<dateTime.iso8601> holds ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction ?? ""}${zone ?? "Z"}`;
  const date = new Date(iso.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  if (Number.isNaN(date.getTime())) throw malformed(`<dateTime.iso8601> holds an impossible date ${text}`);
  return date;
}

function readBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, "");
  if (!BASE64.test(compact) || compact.length % 4 === 1)
    throw malformed("<base64> holds characters outside base64");
  return Buffer.from(compact, "base64");
}

function readStruct(struct: Element): { [key: string]: XmlRpcDecoded } {
  const result: { [key: string]: XmlRpcDecoded } = {};
  for (const member of struct.children) {
    if (member.name !== "member") throw malformed(`<struct> may hold only <member>, found <${member.name}>`);
    const nameEl = member.children.find((c) => c.name === "name");
    const valueEl = member.children.find((c) => c.name === "value");
    if (!nameEl || !valueEl || member.children.length !== 2) {
      throw malformed("<member> must hold one <name> and one <value>");
    }
    const name = leafText(nameEl);
    const value = readValue(valueEl);
    // A member called __proto__ must stay data, never become the object's prototype.
    if (name === "__proto__")
      Object.defineProperty(result, name, { value, enumerable: true, writable: true });
    else result[name] = value;
  }
  return result;
}

function readArray(array: Element): XmlRpcDecoded[] {
  const data = only(array, "data");
  return data.children.map((child) => {
    if (child.name !== "value") throw malformed(`<data> may hold only <value>, found <${child.name}>`);
    return readValue(child);
  });
}

function readValue(value: Element): XmlRpcDecoded {
  const [typed, ...rest] = value.children;
  // A value without a type element is a string, whitespace included.
  if (!typed) return value.text;
  if (rest.length > 0) throw malformed("<value> must hold one typed element");
  if (value.text.trim() !== "") throw malformed(`<value> mixes text with <${typed.name}>`);
  switch (typed.name) {
    case "string":
      return leafText(typed);
    case "int":
    case "i4":
    case "i8":
    case "ex:i8":
      return readInteger(leafText(typed), typed.name);
    case "boolean": {
      const text = leafText(typed).trim();
      if (text !== "0" && text !== "1")
        throw malformed(`<boolean> holds ${JSON.stringify(text)}, not 0 or 1`);
      return text === "1";
    }
    case "double":
      return readDouble(leafText(typed));
    case "dateTime.iso8601":
      return readDateTime(leafText(typed));
    case "base64":
      return readBase64(leafText(typed));
    case "nil":
    case "ex:nil":
      if (leafText(typed).trim() !== "") throw malformed("<nil> must be empty");
      return null;
    case "struct":
      return readStruct(typed);
    case "array":
      return readArray(typed);
    default:
      throw malformed(`unknown value type <${typed.name}>`);
  }
}

function readParams(params: Element): XmlRpcDecoded[] {
  return params.children.map((param) => {
    if (param.name !== "param") throw malformed(`<params> may hold only <param>, found <${param.name}>`);
    return readValue(only(param, "value"));
  });
}

function toText(xml: string | Uint8Array): string {
  return typeof xml === "string"
    ? xml
    : Buffer.from(xml.buffer, xml.byteOffset, xml.byteLength).toString("utf8");
}

/** A hub's reply: the single result, or the fault (a fault is data here; the client turns it into an error). */
export function decodeResponse(xml: string | Uint8Array): XmlRpcResponse {
  const response = only(parseTree(toText(xml)), "methodResponse");
  const body = response.children[0];
  if (!body || response.children.length !== 1) {
    throw malformed("<methodResponse> must hold exactly one of <params> or <fault>");
  }
  if (body.name === "params") {
    const values = readParams(body);
    if (values.length !== 1)
      throw malformed(`a response must carry exactly one param, found ${values.length}`);
    return { kind: "result", value: values[0] as XmlRpcDecoded };
  }
  if (body.name === "fault") {
    const fault = readValue(only(body, "value"));
    if (fault === null || typeof fault !== "object" || Array.isArray(fault) || fault instanceof Date) {
      throw malformed("<fault> must hold a struct");
    }
    const { faultCode, faultString } = fault as Record<string, XmlRpcDecoded>;
    if (typeof faultCode !== "number" || typeof faultString !== "string") {
      throw malformed("<fault> struct needs an integer faultCode and a string faultString");
    }
    return { kind: "fault", faultCode, faultString };
  }
  throw malformed(`<methodResponse> holds <${body.name}>, expected <params> or <fault>`);
}

/** A client's request, as the fake hub receives it. `<params>` may be absent (no arguments). */
export function decodeCall(xml: string | Uint8Array): XmlRpcCall {
  const call = only(parseTree(toText(xml)), "methodCall");
  const nameEl = call.children.find((c) => c.name === "methodName");
  if (!nameEl) throw malformed("<methodCall> lacks <methodName>");
  const methodName = leafText(nameEl).trim();
  if (methodName === "") throw malformed("<methodName> is empty");
  const extra = call.children.filter((c) => c.name !== "methodName" && c.name !== "params");
  if (extra.length > 0 || call.children.length > 2) throw malformed("<methodCall> holds unexpected elements");
  const paramsEl = call.children.find((c) => c.name === "params");
  return { methodName, params: paramsEl ? readParams(paramsEl) : [] };
}
