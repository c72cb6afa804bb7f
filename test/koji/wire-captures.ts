import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Request/response pairs recorded from a real Koji 1.35.3 hub (test/fixtures/koji-wire), split into heads and bodies. */

export const CAPTURE_DIR = new URL("../fixtures/koji-wire/", import.meta.url).pathname;

export interface CapturedMessage {
  startLine: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Capture {
  file: string;
  request: CapturedMessage;
  response: CapturedMessage;
}

function parseMessage(section: Buffer): CapturedMessage {
  const headEnd = section.indexOf("\n\n");
  const head = section.subarray(0, headEnd).toString("utf8").split("\n");
  const startLine = head[0] ?? "";
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers["content-length"] ?? "0");
  // Upload bodies are shown truncated in the captures; everything else is there byte for byte.
  const body = section.subarray(headEnd + 2, headEnd + 2 + length);
  return { startLine, headers, body };
}

export function readCaptures(): Capture[] {
  return readdirSync(CAPTURE_DIR)
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((file) => {
      const raw = readFileSync(join(CAPTURE_DIR, file));
      const req = raw.indexOf("--- REQUEST\n");
      const res = raw.indexOf("--- RESPONSE\n");
      return {
        file,
        request: parseMessage(raw.subarray(req + "--- REQUEST\n".length, res)),
        response: parseMessage(raw.subarray(res + "--- RESPONSE\n".length)),
      };
    });
}
