import { permanentError } from "../../errors.js";
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, XmlRpcDouble, type XmlRpcValue } from "./value.js";

/**
 * XML-RPC documents laid out as Python's xmlrpc.client (and so Koji) writes them, so captures from a real hub and
 * our own requests look alike and diff cleanly.
 */

const XML_DECL = "<?xml version='1.0'?>\n";

/**
 * A character XML 1.0 cannot carry at all, not even as a reference (C0 controls other than tab, LF, CR;
 * U+FFFE/U+FFFF), or a lone surrogate (not Unicode, so not encodable as UTF-8): with the `u` flag a surrogate
 * that is half of a pair is part of its code point and does not match `\p{Cs}`. One native scan: a loop over
 * the characters in JavaScript took several milliseconds on a CGImport document of a few megabytes.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\p{Cs}]/u;

function hasForbiddenChar(text: string): boolean {
  return FORBIDDEN.test(text);
}

const ESCAPED = /[&<>\r]/g;
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" };

function unencodable(message: string): Error {
  return permanentError("KOJI_XMLRPC_UNENCODABLE", `XML-RPC: cannot encode ${message}`);
}

/** `\r` is written as a reference because XML parsers turn a literal CR (or CRLF) into LF. */
function escapeText(text: string): string {
  if (hasForbiddenChar(text)) {
    throw unencodable(
      "a string holding a character XML 1.0 cannot carry (a control character or lone surrogate)",
    );
  }
  return text.replace(ESCAPED, (c) => ESCAPES[c] ?? c);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Python's DateTime format (`20250702T16:29:15`), always UTC: XML-RPC carries no zone and Koji assumes UTC. */
function formatDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw unencodable("an invalid Date");
  return (
    `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  );
}

/** Python writes non-finite floats this way and reads them back; keep the same spelling. */
function formatDouble(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Number.POSITIVE_INFINITY) return "inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  return String(n);
}

function writeValue(out: string[], value: XmlRpcValue, depth: number): void {
  if (depth > 100) throw unencodable("a value nested deeper than 100 levels (a cycle?)");
  if (value === null || value === undefined) {
    out.push("<value><nil/></value>");
    return;
  }
  switch (typeof value) {
    case "string":
      out.push("<value><string>", escapeText(value), "</string></value>");
      return;
    case "boolean":
      out.push("<value><boolean>", value ? "1" : "0", "</boolean></value>");
      return;
    case "number":
      if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) {
        out.push("<value><int>", String(value), "</int></value>");
      } else if (Number.isSafeInteger(value)) {
        out.push("<value><i8>", String(value), "</i8></value>");
      } else {
        // An integer-valued number beyond 2^53 has already lost precision; a double says so honestly.
        out.push("<value><double>", formatDouble(value), "</double></value>");
      }
      return;
    case "bigint":
      if (value < INT64_MIN || value > INT64_MAX) throw unencodable(`integer ${value}: outside 64 bits`);
      out.push("<value><i8>", value.toString(), "</i8></value>");
      return;
    case "object":
      break;
    default:
      throw unencodable(`a value of type ${typeof value}`);
  }
  if (value instanceof XmlRpcDouble) {
    out.push("<value><double>", formatDouble(value.value), "</double></value>");
  } else if (value instanceof Date) {
    out.push("<value><dateTime.iso8601>", formatDate(value), "</dateTime.iso8601></value>");
  } else if (value instanceof Uint8Array) {
    const b64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
    out.push("<value><base64>\n", b64, "\n</base64></value>");
  } else if (Array.isArray(value)) {
    out.push("<value><array><data>\n");
    for (const item of value as readonly XmlRpcValue[]) {
      writeValue(out, item, depth + 1);
      out.push("\n");
    }
    out.push("</data></array></value>");
  } else {
    out.push("<value><struct>\n");
    for (const [name, member] of Object.entries(value)) {
      if (member === undefined) continue;
      out.push("<member>\n<name>", escapeText(name), "</name>\n");
      writeValue(out, member, depth + 1);
      out.push("\n</member>\n");
    }
    out.push("</struct></value>");
  }
}

function writeParams(out: string[], params: readonly XmlRpcValue[]): void {
  out.push("<params>\n");
  for (const param of params) {
    out.push("<param>\n");
    writeValue(out, param, 0);
    out.push("\n</param>\n");
  }
  out.push("</params>\n");
}

/** The pieces of a call's document, in order: joined, they are the document. */
function callParts(methodName: string, params: readonly XmlRpcValue[]): string[] {
  if (!/^[A-Za-z0-9_.:/]+$/.test(methodName)) throw unencodable(`method name ${JSON.stringify(methodName)}`);
  const out = [XML_DECL, "<methodCall>\n<methodName>", methodName, "</methodName>\n"];
  writeParams(out, params);
  out.push("</methodCall>\n");
  return out;
}

export function encodeCall(methodName: string, params: readonly XmlRpcValue[] = []): string {
  return callParts(methodName, params).join("");
}

/**
 * The size in UTF-8 bytes of what encodeCall returns, without building it: a CGImport request is megabytes, and
 * its size is checked before it is sent. Each piece is whole text (never half of a surrogate pair: the encoder
 * refuses lone ones), so the pieces' sizes add up to the document's.
 */
export function encodedCallBytes(methodName: string, params: readonly XmlRpcValue[] = []): number {
  let bytes = 0;
  for (const part of callParts(methodName, params)) bytes += Buffer.byteLength(part);
  return bytes;
}

export function encodeResponse(value: XmlRpcValue): string {
  const out = [XML_DECL, "<methodResponse>\n"];
  writeParams(out, [value]);
  out.push("</methodResponse>\n");
  return out.join("");
}

export function encodeFault(faultCode: number, faultString: string): string {
  if (!Number.isInteger(faultCode)) throw unencodable(`fault code ${faultCode}: not an integer`);
  const out = [XML_DECL, "<methodResponse>\n<fault>\n"];
  writeValue(out, { faultCode, faultString }, 0);
  out.push("\n</fault>\n</methodResponse>\n");
  return out.join("");
}
