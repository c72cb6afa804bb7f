/**
 * The fake Koji hub (test/fakes/koji) on its own for bench/koji-upload.ts: grants the content generator to
 * `osbuild`, prints `url:`, `ca:`, `cert:` and `key:` lines, and serves until killed. The fake keeps uploads in
 * memory, so the bench starts a fresh one for every measurement.
 *
 *   npx tsx bench/koji-upload-fake-hub.ts [--port N]
 */
import { parseArgs } from "node:util";
import { startFakeKojiHub } from "../test/fakes/koji/server.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const hub = await startFakeKojiHub({ port: Number(values.port) });
hub.grant("osbuild");
const user = hub.clientCert("osbuild");
console.log(`url: ${hub.url}`);
console.log(`ca: ${hub.pki.caFile}`);
console.log(`cert: ${user.certFile}`);
console.log(`key: ${user.keyFile}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void hub.close().finally(() => process.exit(0));
  });
}
