import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sslAuthenticator } from "../../src/koji/auth.js";
import { KojiTransport } from "../../src/koji/transport.js";
import { adler32Hex } from "../fakes/adler32.js";
import { UploadFailure, uploadDirectory, uploadFile } from "../fakes/composer-worker/upload.js";
import { UploadClient, UploadingKojiSession } from "../fakes/composer-worker/upload-client.js";
import { type FakeKojiHub, type RecordedRequest, startFakeKojiHub } from "../fakes/koji/server.js";
import { createTestPki, type TestPki } from "../fakes/pki.js";
import { caught } from "../support/caught.js";

let pki: TestPki;
let hub: FakeKojiHub;
let transport: KojiTransport;
let client: UploadClient;
let dirCounter = 0;

beforeAll(async () => {
  pki = createTestPki();
  const user = pki.client("osbuild");
  hub = await startFakeKojiHub({ pki });
  hub.grant("osbuild");
  transport = await KojiTransport.create({
    tls: { certFile: user.certFile, keyFile: user.keyFile, caFile: pki.caFile },
    timeoutMs: 5000,
  });
  client = new UploadClient(
    new UploadingKojiSession({ hubUrl: hub.url, transport, authenticator: sslAuthenticator() }),
  );
});

afterAll(async () => {
  await transport.close();
  await hub.close();
  pki.cleanup();
});

function freshDir(): string {
  return `koji-upload-test/${process.pid}.${++dirCounter}`;
}

/** A source that hands the bytes over in awkward pieces, to exercise re-chunking. */
function pieces(data: Buffer, size = 777): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) parts.push(data.subarray(at, at + size));
  return Readable.from(parts);
}

function uploadsOf(directory: string, filename: string): RecordedRequest[] {
  return hub.requests.filter(
    (r) => r.method === "rawUpload" && r.query.filepath === directory && r.query.filename === filename,
  );
}

function isChunk(directory: string, offset: number) {
  return (r: RecordedRequest) =>
    r.method === "rawUpload" && r.query.filepath === directory && r.query.offset === String(offset);
}

describe("Koji raw uploads", () => {
  it.each([
    ["0 bytes", 0, 1024],
    ["1 byte", 1, 1024],
    ["exactly one chunk", 1024, 1024],
    ["one chunk and a byte", 1025, 1024],
    ["many chunks", 10 * 1024 + 17, 1024],
    ["an exact multiple of the chunk size", 8 * 1024, 1024],
  ])("%s", async (_name, size, chunkBytes) => {
    const data = randomBytes(size);
    const directory = freshDir();
    const result = await uploadFile(client, {
      directory,
      filename: "image.qcow2",
      source: pieces(data),
      chunkBytes,
    });
    expect(hub.uploadedFile(directory, `image.qcow2`)).toEqual(data);
    expect(result).toMatchObject({
      size,
      checksumType: "md5",
      checksum: createHash("md5").update(data).digest("hex"),
      adler32: adler32Hex(data),
      chunks: Math.max(1, Math.ceil(size / chunkBytes)),
      resends: 0,
    });
    const sent = uploadsOf(directory, "image.qcow2");
    expect(sent.map((r) => Number(r.query.offset))).toEqual(
      Array.from({ length: result.chunks }, (_, i) => i * chunkBytes),
    );
    expect(sent.map((r) => r.bodyLength).reduce((a, b) => a + b, 0)).toBe(size);
    for (const r of sent) {
      expect(r.headers["content-type"]).toBe("application/octet-stream");
      expect(r.query).toMatchObject({ fileverify: "adler32", overwrite: "true" });
      expect(r.sessionVia).toBe("header");
    }
    // The last word is the hub's: every chunk went through at once, so the size of the file it assembled.
    const check = hub.calls("checkUpload").at(-1);
    expect(check?.params).toEqual([directory, "image.qcow2"]);
  });

  it("streams chunks bigger than a socket slice with an exact Content-Length", async () => {
    const data = randomBytes(2 * 1024 * 1024 + 333);
    const directory = freshDir();
    const result = await uploadFile(client, {
      directory,
      filename: "big.raw",
      source: pieces(data, 65536),
      chunkBytes: 1024 * 1024,
    });
    expect(result.chunks).toBe(3);
    // Buffer.equals: a deep toEqual over 2 MiB walks it byte by byte and takes tens of seconds on a busy machine.
    expect(hub.uploadedFile(directory, "big.raw")?.equals(data)).toBe(true);
    const sent = uploadsOf(directory, "big.raw");
    expect(sent.map((r) => r.headers["content-length"])).toEqual(["1048576", "1048576", "333"]);
    expect(sent.every((r) => r.headers["transfer-encoding"] === undefined)).toBe(true);
  });

  it("reports each confirmed chunk", async () => {
    const seen: [number, number][] = [];
    await uploadFile(client, {
      directory: freshDir(),
      filename: "p.raw",
      source: pieces(randomBytes(2500)),
      chunkBytes: 1024,
      onChunk: (bytes, total) => seen.push([bytes, total]),
    });
    expect(seen).toEqual([
      [1024, 1024],
      [1024, 2048],
      [452, 2500],
    ]);
  });

  it("computes sha256 when asked", async () => {
    const data = randomBytes(5000);
    const result = await uploadFile(client, {
      directory: freshDir(),
      filename: "a.raw",
      source: pieces(data),
      chunkBytes: 2048,
      checksumType: "sha256",
    });
    expect(result.checksum).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it.each([
    ["a 503", { status: 503 }],
    ["a dropped connection", { dropBefore: true as const }],
    ["a LockError", { fault: [1001, "[Errno 11] Resource temporarily unavailable"] as [number, string] }],
    ["a wrong adler32 in the reply", { wrongDigest: true as const }],
  ])("resends a chunk at the same offset after %s", async (_name, injection) => {
    const data = randomBytes(4096 + 100);
    const directory = freshDir();
    hub.inject.request(isChunk(directory, 2048), injection);
    const result = await uploadFile(client, {
      directory,
      filename: "f.img",
      source: pieces(data),
      chunkBytes: 1024,
      retry: { baseDelayMs: 1 },
    });
    expect(result.resends).toBe(1);
    expect(hub.uploadedFile(directory, `f.img`)).toEqual(data);
    // After a resend the hub re-reads the whole file for its adler32, as Koji's own client asks it to.
    expect(hub.calls("checkUpload").at(-1)?.params).toEqual([
      directory,
      "f.img",
      { verify: "adler32", __starstar: true },
    ]);
    expect(uploadsOf(directory, "f.img").map((r) => r.query.offset)).toEqual([
      "0",
      "1024",
      "2048",
      "2048",
      "3072",
      "4096",
    ]);
  });

  it("fails without resending on a permanent fault, naming the hub's message", async () => {
    const directory = freshDir();
    hub.inject.request(isChunk(directory, 1024), { fault: [1000, "Invalid upload directory, not owner: x"] });
    const error = await caught(
      uploadFile(client, {
        directory,
        filename: "f.img",
        source: pieces(randomBytes(3000)),
        chunkBytes: 1024,
      }),
    );
    expect(error.code).toBe("KOJI_FAULT");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("not owner");
    expect(uploadsOf(directory, "f.img").map((r) => r.query.offset)).toEqual(["0", "1024"]);
  });

  it("stops after the bounded resends, with the last error", async () => {
    const directory = freshDir();
    for (let i = 0; i < 3; i++) hub.inject.request(isChunk(directory, 0), { status: 503 });
    const error = await caught(
      uploadFile(client, {
        directory,
        filename: "f.img",
        source: pieces(randomBytes(10)),
        chunkBytes: 1024,
        retry: { maxRetries: 2, baseDelayMs: 1 },
      }),
    );
    expect(error.code).toBe("KOJI_HTTP_STATUS");
    expect(error.retryable).toBe(true);
    expect(uploadsOf(directory, "f.img")).toHaveLength(3);
  });

  it("refuses a source that does not match what was expected", async () => {
    const data = randomBytes(100);
    const wrongSize = await caught(
      uploadFile(client, {
        directory: freshDir(),
        filename: "a",
        source: pieces(data),
        expected: { size: 101 },
      }),
      UploadFailure,
    );
    expect(wrongSize.code).toBe("KOJI_UPLOAD_SOURCE_MISMATCH");
    const wrongSum = await caught(
      uploadFile(client, {
        directory: freshDir(),
        filename: "a",
        source: pieces(data),
        expected: { checksum: "0".repeat(32) },
      }),
      UploadFailure,
    );
    expect(wrongSum.code).toBe("KOJI_UPLOAD_SOURCE_MISMATCH");
    const md5 = createHash("md5").update(data).digest("hex").toUpperCase();
    await uploadFile(client, {
      directory: freshDir(),
      filename: "a",
      source: pieces(data),
      expected: { size: 100, checksum: md5 },
    });
  });

  it("fails the upload when the hub's file is not what was sent", async () => {
    const short = freshDir();
    hub.inject.request((r) => r.method === "checkUpload" && r.params[0] === short, {
      reply: { size: 2, mtime: 1.5 },
    });
    const error = await caught(
      uploadFile(client, {
        directory: short,
        filename: "a",
        source: pieces(randomBytes(3)),
        chunkBytes: 1024,
      }),
      UploadFailure,
    );
    expect(error.code).toBe("KOJI_UPLOAD_VERIFY");
    const garbled = freshDir();
    hub.inject.request((r) => r.method === "checkUpload" && r.params[0] === garbled, {
      reply: { size: 3, mtime: 1.5, sumlength: 3, hexdigest: "00000001" },
    });
    const wrongDigest = await caught(
      uploadFile(client, {
        directory: garbled,
        filename: "a",
        source: pieces(randomBytes(3)),
        chunkBytes: 1024,
        verify: "always",
      }),
      UploadFailure,
    );
    expect(wrongDigest.code).toBe("KOJI_UPLOAD_VERIFY");
    expect(hub.calls("checkUpload").at(-1)?.params).toEqual([
      garbled,
      "a",
      { verify: "adler32", __starstar: true },
    ]);
  });

  it("surfaces a failing source and stops reading it", async () => {
    async function* broken() {
      yield randomBytes(1500);
      throw new Error("download interrupted");
    }
    await expect(
      uploadFile(client, { directory: freshDir(), filename: "a", source: broken(), chunkBytes: 1024 }),
    ).rejects.toThrow("download interrupted");
  });

  it("uploads the files of one directory side by side, never two chunks of one file at once", async () => {
    const directory = freshDir();
    const contents = Array.from({ length: 5 }, (_, i) => randomBytes(3000 + i * 1000));
    hub.inject.request(isChunk(directory, 1024), { delayMs: 30 });
    const results = await uploadDirectory(client, {
      directory,
      chunkBytes: 1024,
      concurrency: 3,
      files: contents.map((data, i) => ({ filename: `f${i}.raw`, open: () => pieces(data) })),
    });
    expect(results.map((r) => r.filename)).toEqual(["f0.raw", "f1.raw", "f2.raw", "f3.raw", "f4.raw"]);
    contents.forEach((data, i) => {
      expect(hub.uploadedFile(directory, `f${i}.raw`)).toEqual(data);
      const offsets = uploadsOf(directory, `f${i}.raw`).map((r) => Number(r.query.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    });
  });

  it("stops starting files after the first failure and reports it", async () => {
    const directory = freshDir();
    hub.inject.request(isChunk(directory, 0), { fault: [1000, "Invalid upload filename: .hidden"] });
    let opened = 0;
    const error = await caught(
      uploadDirectory(client, {
        directory,
        chunkBytes: 1024,
        concurrency: 1,
        files: ["a", "b", "c"].map((filename) => ({
          filename,
          open: () => {
            opened++;
            return pieces(randomBytes(10));
          },
        })),
      }),
    );
    expect(error.message).toContain("Invalid upload filename");
    expect(opened).toBe(1);
  });
});
