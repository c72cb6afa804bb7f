import type { z } from "zod";
import { ImporterError, permanentError } from "../errors.js";
import { findUnstorableText, nestedDeeperThan } from "../json-limits.js";
import { formatPath, parseInput } from "../validation.js";
import {
  ComposerErrorCode,
  describeRequest,
  invalidResponseError,
  type RequestLabel,
  requestDetails,
} from "./errors.js";
import { failure, type ResponseBody } from "./transport.js";

/**
 * Deeper than any composer answer nests (an osbuild manifest or SPDX document is a few dozen levels): checked on
 * the text, so a hostile body never reaches the recursive walks after JSON.parse (zod, JSON.stringify, jsonb).
 */
export const MAX_JSON_DEPTH = 256;

/**
 * Reads a JSON body with a size cap: a runaway response (a proxy's endless page, a manifest gone wrong) fails
 * this request instead of the process's memory. A body that breaks off mid-way is a transport failure
 * (retryable); one that arrives whole but is not JSON is permanent.
 */
export async function readJson(
  body: ResponseBody,
  label: RequestLabel,
  maxBytes: number,
  contentType: string | undefined,
  signal?: AbortSignal,
): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > maxBytes) {
        body.destroy();
        throw invalidResponseError(label, `body larger than ${maxBytes} bytes`, { max_bytes: maxBytes });
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof ImporterError) throw error;
    throw failure(label, error, signal);
  }
  const text = Buffer.concat(chunks, size).toString("utf8");
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw invalidResponseError(label, `body nested deeper than ${MAX_JSON_DEPTH} levels; not parsed`, {
      max_depth: MAX_JSON_DEPTH,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const start = JSON.stringify(text.slice(0, 80));
    throw invalidResponseError(
      label,
      `body is not JSON (content-type ${contentType ?? "none"}, starts ${start})`,
      { content_type: contentType },
      error,
    );
  }
}

/**
 * A short reason for an error response, for the error message: composer's Error `reason` (and `code`) when the
 * body is its JSON error document, else the first line of whatever text came back. Never fails.
 */
export async function readErrorReason(body: ResponseBody): Promise<string | undefined> {
  let text = "";
  try {
    for await (const chunk of body) {
      text += (chunk as Buffer).toString("utf8");
      if (text.length >= 4096) {
        body.destroy();
        break;
      }
    }
  } catch {
    return text === "" ? undefined : firstLine(text);
  }
  if (text.trim() === "") return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      const { code, reason, error, error_description } = parsed as Record<string, unknown>;
      const said = [code, reason, error, error_description].filter((v) => typeof v === "string");
      if (said.length > 0) return said.join(": ");
    }
  } catch {
    // not JSON: fall through to the text itself
  }
  return firstLine(text);
}

function firstLine(text: string): string {
  const line = text.trim().split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * Checks a body against its schema. The message names the request, the compose and every failing field path
 * (`composer GET /composes/{id}/logs for compose <id>: invalid image_builds: ...`); the same bytes would fail
 * again, so it is permanent.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, label: RequestLabel): z.infer<S> {
  // The answers are stored as they came (jsonb), and a string PostgreSQL cannot hold would fail that write,
  // naming nothing, on every retry: refused here with its path.
  const unstorable = findUnstorableText(body);
  if (unstorable) {
    const field = formatPath(unstorable.path);
    throw invalidResponseError(
      label,
      `invalid ${field}: holds ${unstorable.problem}, which PostgreSQL cannot store`,
      {
        field,
      },
    );
  }
  try {
    return parseInput(schema, body, describeRequest(label), ComposerErrorCode.InvalidResponse);
  } catch (error) {
    if (!(error instanceof ImporterError)) throw error;
    throw permanentError(ComposerErrorCode.InvalidResponse, error.message, {
      details: { ...requestDetails(label), ...error.details },
    });
  }
}
