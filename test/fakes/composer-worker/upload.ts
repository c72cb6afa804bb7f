import { createHash, type Hash } from "node:crypto";
import { setImmediate, setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { toImporterError } from "../../../src/errors.js";
import { backoffDelay, type RetryPolicy } from "../../../src/retry/backoff.js";
import { parseInput } from "../../../src/validation.js";
import { Adler32, adler32Combine } from "../adler32.js";
import { ChunkReader } from "./chunk-reader.js";
import { UploadChunkResultSchema, type UploadClient } from "./upload-client.js";

/**
 * Koji's raw upload: each chunk is POSTed to the hub with its offset in the query, the hub answers with the size and
 * adler32 it wrote, and we compare both before sending the next. Chunks of one file go strictly one after another
 * (the hub locks the file per chunk and answers LockError to a second writer); files of one directory may go side
 * by side.
 *
 * While chunk n is on the wire, chunk n+1 is read and hashed into a second buffer, so the hashing here overlaps the
 * network and the hub's own work. Memory is therefore two chunk buffers per file in flight, whatever the file size.
 */

/**
 * 8 MiB (bench/koji-upload.ts, bench/README.md): a real hub pays a session lookup and commit per request, which 1 MiB
 * chunks (Koji's own client default) pay eight times as often, and the uploading process spends a third more CPU per
 * GiB at 1 MiB than at 8. 32 MiB is barely faster and its two buffers push peak RSS over 150 MB.
 */
export const DEFAULT_UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;

export type ChecksumType = "md5" | "sha256";

export interface UploadFileOptions {
  /** The hub's upload directory (`filepath`), later CGImport's `directory`. */
  directory: string;
  filename: string;
  source: AsyncIterable<Uint8Array | string>;
  chunkBytes?: number;
  /** The whole file's checksum, computed on the way (composer reports md5). */
  checksumType?: ChecksumType;
  /** When given, the source must produce exactly these; a mismatch means a bad download, not a bad upload. */
  expected?: { size?: number; checksum?: string };
  /**
   * The final checkUpload. Every chunk's size and adler32 were already confirmed by the hub as it wrote them, so
   * by default (`auto`, as Koji's own client does) the hub re-reads the whole file for its adler32 only when some
   * chunk had to be resent; otherwise the size is checked. That re-read is the hub reading the entire image back
   * from its volume inside one request (a minute for 10 GiB on NFS). `always` asks for it every time.
   */
  verify?: "auto" | "always";
  /**
   * Resends of one chunk at the same offset before the upload fails (`maxRetries`), with the importer's one backoff
   * between them. The backoff matters for LockError: an earlier attempt of this very chunk may still be writing.
   */
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  logger?: Logger;
  /** Called after each chunk the hub confirmed (for byte counters and progress logs). */
  onChunk?: (chunkBytes: number, uploadedBytes: number) => void;
}

export interface UploadResult {
  filename: string;
  size: number;
  checksumType: ChecksumType;
  checksum: string;
  /** The whole file's adler32, from the chunks' (the hub's checkUpload confirmed it when asked to). */
  adler32: string;
  chunks: number;
  /** Chunks that had to be sent more than once. */
  resends: number;
}

interface Chunk {
  buffer: Buffer;
  length: number;
  adler32: number;
}

/**
 * The uploader's own failures. It stands in for composer's worker, not the importer, so its codes are not the
 * importer's and stay out of its registry (src/error-codes.ts); what the hub session raises stays an ImporterError.
 */
type UploadFailureCode =
  | "KOJI_UPLOAD_CONFIG"
  | "KOJI_UPLOAD_MISMATCH"
  | "KOJI_UPLOAD_SOURCE_MISMATCH"
  | "KOJI_UPLOAD_VERIFY";

export class UploadFailure extends Error {
  override readonly name = "UploadFailure";

  constructor(
    readonly code: UploadFailureCode,
    readonly retryable: boolean,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

/**
 * Hashing one chunk is milliseconds of CPU (md5 runs near 600 MB/s); done in one go it would hold up the socket
 * writes of the chunk in flight. Slices of this size with a turn of the event loop between them keep both going.
 */
const HASH_SLICE_BYTES = 256 * 1024;

/** Reads the next chunk into `buffer` and hashes it (whole-file checksum first, so order is kept). */
async function nextChunk(reader: ChunkReader, buffer: Buffer, hash: Hash): Promise<Chunk> {
  const length = await reader.read(buffer);
  const adler = new Adler32();
  for (let at = 0; at < length; at += HASH_SLICE_BYTES) {
    if (at > 0) await setImmediate();
    const slice = buffer.subarray(at, Math.min(at + HASH_SLICE_BYTES, length));
    hash.update(slice);
    adler.update(slice);
  }
  return { buffer, length, adler32: adler.digest() };
}

export async function uploadFile(client: UploadClient, options: UploadFileOptions): Promise<UploadResult> {
  const { directory, filename } = options;
  const chunkBytes = options.chunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES;
  const checksumType = options.checksumType ?? "md5";
  const retry: RetryPolicy = { maxRetries: 4, baseDelayMs: 1000, maxDelayMs: 30_000, ...options.retry };
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new UploadFailure(
      "KOJI_UPLOAD_CONFIG",
      false,
      `Koji upload: chunk size ${chunkBytes} is not a positive integer`,
    );
  }
  const where = `${directory}/${filename}`;
  const hash = createHash(checksumType);
  const reader = new ChunkReader(options.source);
  // The second buffer only when a second chunk exists: a small file costs one buffer.
  let spare: Buffer | undefined;
  let offset = 0;
  let chunks = 0;
  let resends = 0;
  let whole = 1; // adler32 of nothing

  const sendChunk = async (chunk: Chunk): Promise<void> => {
    const body = chunk.buffer.subarray(0, chunk.length);
    const expectedDigest = hex8(chunk.adler32);
    const query = {
      filename,
      filepath: directory,
      fileverify: "adler32",
      offset: String(offset),
      overwrite: "true",
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await client.session.rawUpload(query, body);
        const result = parseInput(
          UploadChunkResultSchema,
          reply,
          `Koji upload reply for ${where}`,
          "KOJI_INVALID_RESPONSE",
        );
        if (result.size !== chunk.length || result.offset !== offset || result.hexdigest !== expectedDigest) {
          // Bytes changed between us and the hub's disk. Sending them again at the same offset overwrites them.
          throw new UploadFailure(
            "KOJI_UPLOAD_MISMATCH",
            true,
            `Koji upload ${where} at offset ${offset}: hub wrote ${result.size} bytes at ${result.offset} with ` +
              `adler32 ${result.hexdigest ?? "none"}, sent ${chunk.length} bytes with ${expectedDigest}`,
            { filename, offset },
          );
        }
        return;
      } catch (e) {
        const error = e instanceof UploadFailure ? e : toImporterError(e);
        if (!error.retryable || attempt >= retry.maxRetries || options.signal?.aborted) throw error;
        if (attempt === 0) resends++;
        options.logger?.warn(
          { err: error, filename, offset, attempt: attempt + 1 },
          "Koji upload chunk failed; resending",
        );
        await sleep(backoffDelay(attempt, retry));
      }
    }
  };

  try {
    let current = await nextChunk(reader, Buffer.allocUnsafe(chunkBytes), hash);
    for (;;) {
      options.signal?.throwIfAborted();
      const last = current.length < chunkBytes;
      // Read ahead into the spare buffer while this chunk travels; the spare is never the one being sent.
      if (!last) spare ??= Buffer.allocUnsafe(chunkBytes);
      const ahead = spare && !last ? nextChunk(reader, spare, hash) : undefined;
      // A rejected read-ahead is awaited below; keep it from being reported as unhandled while the send runs.
      ahead?.catch(() => undefined);
      await sendChunk(current);
      chunks++;
      offset += current.length;
      whole = adler32Combine(whole, current.adler32, current.length);
      options.onChunk?.(current.length, offset);
      if (!ahead) break;
      const next = await ahead;
      // An exact multiple of the chunk size ends on an empty read; the empty file alone sends an empty chunk.
      if (next.length === 0) break;
      spare = current.buffer;
      current = next;
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  }

  const checksum = hash.digest("hex");
  const size = offset;
  if (options.expected?.size !== undefined && options.expected.size !== size) {
    throw new UploadFailure(
      "KOJI_UPLOAD_SOURCE_MISMATCH",
      true,
      `Koji upload ${where}: the source gave ${size} bytes, expected ${options.expected.size}`,
      { filename, size, expectedSize: options.expected.size },
    );
  }
  if (options.expected?.checksum !== undefined && options.expected.checksum.toLowerCase() !== checksum) {
    throw new UploadFailure(
      "KOJI_UPLOAD_SOURCE_MISMATCH",
      true,
      `Koji upload ${where}: the source's ${checksumType} is ${checksum}, expected ${options.expected.checksum}`,
      { filename, checksum, expectedChecksum: options.expected.checksum },
    );
  }

  // The last word is the hub's: checkUpload on the file it assembled, before CGImport relies on it.
  const adler32 = hex8(whole);
  const digestToo = (options.verify ?? "auto") === "always" || resends > 0;
  const check = await client.checkUpload(directory, filename, digestToo ? "adler32" : undefined);
  if (!check || check.size !== size || (digestToo && check.hexdigest !== adler32)) {
    const found = check ? `${check.size} bytes, adler32 ${check.hexdigest ?? "none"}` : "no file";
    throw new UploadFailure(
      "KOJI_UPLOAD_VERIFY",
      true,
      `Koji upload ${where}: hub has ${found}, sent ${size} bytes with adler32 ${adler32}`,
      { filename, size, adler32, hubSize: check?.size, hubAdler32: check?.hexdigest },
    );
  }
  options.logger?.debug({ filename, size, chunks, resends }, "Koji upload done");
  return { filename, size, checksumType, checksum, adler32, chunks, resends };
}

export interface UploadDirectoryFile {
  filename: string;
  /** Opened only when its turn comes, so at most `concurrency` sources are open at once. */
  open: () => AsyncIterable<Uint8Array | string> | Promise<AsyncIterable<Uint8Array | string>>;
  expected?: { size?: number; checksum?: string };
}

export interface UploadDirectoryOptions
  extends Omit<UploadFileOptions, "filename" | "source" | "expected" | "signal"> {
  files: readonly UploadDirectoryFile[];
  /** Files uploaded side by side; each holds two chunk buffers. */
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Uploads several files into one directory, a bounded number at a time. The first failure stops new files from
 * starting and aborts the others between chunks; it is what the caller sees.
 */
export async function uploadDirectory(
  client: UploadClient,
  options: UploadDirectoryOptions,
): Promise<UploadResult[]> {
  const { files, concurrency = 2, ...common } = options;
  const results: UploadResult[] = new Array(files.length);
  const abort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  let nextIndex = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && !signal.aborted && nextIndex < files.length) {
      const index = nextIndex++;
      const file = files[index] as UploadDirectoryFile;
      try {
        const source = await file.open();
        results[index] = await uploadFile(client, {
          ...common,
          filename: file.filename,
          source,
          ...(file.expected ? { expected: file.expected } : {}),
          signal,
        });
      } catch (e) {
        failure ??= e;
        abort.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  if (failure !== undefined) throw failure instanceof UploadFailure ? failure : toImporterError(failure);
  options.signal?.throwIfAborted();
  return results;
}
