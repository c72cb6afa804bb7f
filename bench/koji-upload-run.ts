/**
 * One measured upload, run by bench/koji-upload.ts in a fresh process (compiled, on plain node) so that peak RSS
 * belongs to this one configuration alone. Prints one JSON line.
 *
 * argv: <importer|baseline> <chunkBytes> <totalBytes> <hubUrl> <certFile> <keyFile> <caFile>
 */
import { randomBytes } from "node:crypto";
import { sslAuthenticator } from "../src/koji/auth.js";
import { KojiTransport } from "../src/koji/transport.js";
import { ChunkReader } from "../test/fakes/composer-worker/chunk-reader.js";
import { uploadFile } from "../test/fakes/composer-worker/upload.js";
import { UploadClient, UploadingKojiSession } from "../test/fakes/composer-worker/upload-client.js";

const [mode, chunkText, totalText, hubUrl, certFile, keyFile, caFile] = process.argv.slice(2);
if (!mode || !chunkText || !totalText || !hubUrl) throw new Error("usage: see the header of this file");
const chunkBytes = Number(chunkText);
const totalBytes = Number(totalText);
const MARK_BYTES = 100 * 1000 * 1000;

/** A generated stream: 64 KiB pieces (a file read stream's size) cut from 4 MiB of random bytes. */
const pool = randomBytes(4 * 1024 * 1024);
let produced = 0;
let rssAtMark: number | undefined;
async function* generated(): AsyncGenerator<Buffer> {
  const piece = 64 * 1024;
  while (produced < totalBytes) {
    const size = Math.min(piece, totalBytes - produced);
    const at = produced % pool.length;
    produced += size;
    // Sampled on the way: the first piece past 100 MB is as close to "at 100 MB" as the stream gets.
    if (rssAtMark === undefined && produced >= MARK_BYTES) rssAtMark = process.memoryUsage.rss();
    yield pool.subarray(at, at + size);
  }
}

const transport = await KojiTransport.create({ tls: { certFile, keyFile, caFile }, timeoutMs: 120_000 });
const client = new UploadClient(
  new UploadingKojiSession({ hubUrl, transport, authenticator: sslAuthenticator() }),
);
await client.session.login();
const directory = `bench-${process.pid}/${mode}-${chunkBytes}`;

let peak = process.memoryUsage.rss();
let peakAfterMark = 0;
const rssBefore = peak;
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  peak = Math.max(peak, rss);
  if (rssAtMark !== undefined) peakAfterMark = Math.max(peakAfterMark, rss);
}, 25);

const cpuBefore = process.cpuUsage();
const started = performance.now();
if (mode === "importer") {
  await uploadFile(client, { directory, filename: "bench.raw", source: generated(), chunkBytes });
} else {
  // The same bytes in the same chunks on the same session: no checksums, no reply checks, no final checkUpload.
  const reader = new ChunkReader(generated());
  const buffer = Buffer.allocUnsafe(chunkBytes);
  for (let offset = 0; ; ) {
    const length = await reader.read(buffer);
    if (length === 0 && offset > 0) break;
    const query = {
      filename: "bench.raw",
      filepath: directory,
      fileverify: "adler32",
      offset: String(offset),
    };
    await client.session.rawUpload({ ...query, overwrite: "true" }, buffer.subarray(0, length));
    offset += length;
    if (length < chunkBytes) break;
  }
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
const rssAtEnd = process.memoryUsage.rss();
peak = Math.max(peak, rssAtEnd);
await client.logout();
await transport.close();

console.log(
  JSON.stringify({
    mode,
    chunkBytes,
    totalBytes,
    seconds,
    mbPerSecond: totalBytes / 1e6 / seconds,
    /** This process's CPU (user + system) during the upload: what the importer costs, whatever else runs. */
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssBefore,
    rssAtMark,
    rssAtEnd,
    peakRss: peak,
    peakAfterMark: Math.max(peakAfterMark, rssAtEnd),
    kojiVersion: client.session.kojiVersion,
  }),
);
