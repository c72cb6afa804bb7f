/**
 * A minimal Koji upload endpoint for bench/koji-upload.ts when the fake hub (test/fakes/koji) is not used: HTTPS
 * with a client certificate, `sslLogin`, raw upload POSTs answered with size and adler32 as the hub does, and
 * `checkUpload` from what was received. Bytes are counted and checksummed, never stored, and there is no session
 * database: per request it does less than a real hub, so it flatters small chunks.
 *
 *   npx tsx bench/koji-upload-sink.ts [--port N]     prints url/ca/cert/key lines, then serves until killed
 */
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { decodeCall, encodeFault, encodeResponse, type XmlRpcValue } from "../src/koji/xmlrpc/index.js";
import { Adler32, adler32Combine } from "../test/fakes/adler32.js";
import { createTestPki } from "../test/fakes/pki.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const pki = createTestPki();
const user = pki.client("osbuild");
const files = new Map<string, { size: number; adler32: number }>();
let sessions = 0;

const server = createServer(
  {
    cert: pki.server.cert,
    key: pki.server.key,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: false,
  },
  (req, res) => {
    const url = new URL(req.url ?? "/", "https://sink");
    const upload = req.headers["content-type"] === "application/octet-stream";
    const adler = new Adler32();
    const xml: Buffer[] = [];
    let size = 0;
    req.on("data", (data: Buffer) => {
      size += data.length;
      if (upload) adler.update(data);
      else xml.push(data);
    });
    req.on("end", () => {
      let reply: string | undefined;
      if (upload) {
        const key = `${url.searchParams.get("filepath")}/${url.searchParams.get("filename")}`;
        const offset = Number(url.searchParams.get("offset"));
        const before = offset === 0 ? { size: 0, adler32: 1 } : (files.get(key) ?? { size: 0, adler32: 1 });
        files.set(key, {
          size: before.size + size,
          adler32: adler32Combine(before.adler32, adler.digest(), size),
        });
        const hexdigest = adler.hexdigest();
        reply = encodeResponse({ size, fileverify: "adler32", offset, hexdigest });
      } else {
        const call = decodeCall(Buffer.concat(xml));
        let value: XmlRpcValue = null;
        if (call.methodName === "sslLogin") {
          sessions++;
          value = { "session-id": sessions, "session-key": `${sessions}-bench`, "header-auth": true };
        } else if (call.methodName === "checkUpload") {
          const file = files.get(`${call.params[0]}/${call.params[1]}`);
          const hexdigest = file?.adler32.toString(16).padStart(8, "0");
          value = file
            ? { size: file.size, mtime: Date.now() / 1000, sumlength: file.size, hexdigest }
            : null;
        } else if (call.methodName !== "logout") {
          reply = encodeFault(1000, `Invalid method: ${call.methodName}`);
        }
        reply ??= encodeResponse(value);
      }
      res.writeHead(200, { "Content-Type": "text/xml", "Koji-Version": "1.35.3" });
      res.end(reply ?? encodeResponse(null));
    });
  },
);

server.listen(Number(values.port), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`url: https://127.0.0.1:${port}/kojihub`);
  console.log(`ca: ${pki.caFile}`);
  console.log(`cert: ${user.certFile}`);
  console.log(`key: ${user.keyFile}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    pki.cleanup();
    process.exit(0);
  });
}
