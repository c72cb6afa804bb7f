import { Readable } from "node:stream";
import {
  ComposerErrorCode,
  describeRequest,
  type RequestLabel,
  requestDetails,
} from "../../../src/composer/errors.js";
import { failure, type HttpResponse, header } from "../../../src/composer/transport.js";
import { ImporterError, retryableError } from "../../../src/errors.js";

/** An artifact as composer serves it: consume `body` as a stream; it is never held in memory whole. */
export interface ComposeDownload {
  body: Readable;
  /** From Content-Length, when composer sent one; the stream fails if fewer bytes arrive. */
  contentLength: number | undefined;
  contentType: string | undefined;
  /** From Content-Disposition, when present. */
  filename: string | undefined;
}

/**
 * Wraps the response body so a failure mid-stream (reset, body timeout, early end) reaches the consumer as a
 * classed ImporterError like every other composer failure, and a short body is caught even where the transport
 * would not notice. Destroying the returned stream destroys the response, which frees the connection.
 */
export function toComposeDownload(
  response: HttpResponse,
  label: RequestLabel,
  signal: AbortSignal | undefined,
): ComposeDownload {
  const lengthHeader = header(response.headers, "content-length");
  const contentLength = lengthHeader === undefined ? undefined : Number(lengthHeader);
  const source = response.body;
  async function* chunks(): AsyncGenerator<Buffer> {
    let received = 0;
    try {
      for await (const chunk of source) {
        received += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } catch (error) {
      if (error instanceof ImporterError) throw error;
      throw failure(label, error, signal);
    }
    if (contentLength !== undefined && received !== contentLength) {
      throw retryableError(
        ComposerErrorCode.Unreachable,
        `${describeRequest(label)}: body ended after ${received} of ${contentLength} bytes`,
        { details: { ...requestDetails(label), received, content_length: contentLength } },
      );
    }
  }
  return {
    body: Readable.from(chunks(), { objectMode: false }),
    contentLength: Number.isSafeInteger(contentLength) ? contentLength : undefined,
    contentType: header(response.headers, "content-type"),
    filename: filenameOf(header(response.headers, "content-disposition")),
  };
}

function filenameOf(disposition: string | undefined): string | undefined {
  if (!disposition) return undefined;
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}
