import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startFakeKojiHub } from "./server.js";

/**
 * `npm run fake:koji -- [--port N] [--dir D] [--user osbuild] [--task ID ...]`
 * Runs the fake hub alone: prints its URL and writes the test CA and a client certificate for `--user` (granted
 * the `osbuild` content generator) into D, with a KOJI_HUBS value ready for the importer's environment.
 */
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    dir: { type: "string", default: ".tmp/fake-koji" },
    user: { type: "string", default: "osbuild" },
    task: { type: "string", multiple: true, default: ["987654"] },
  },
});

const hub = await startFakeKojiHub({ port: Number(values.port) });
hub.grant(values.user);
for (const task of values.task) hub.addTask(Number(task));
const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true });
const cert = hub.clientCert(values.user);
const files = {
  ca_file: join(dir, "ca.pem"),
  cert_file: join(dir, `${values.user}.crt`),
  key_file: join(dir, `${values.user}.key`),
};
copyFileSync(hub.pki.caFile, files.ca_file);
copyFileSync(cert.certFile, files.cert_file);
copyFileSync(cert.keyFile, files.key_file);

console.log(
  JSON.stringify({
    msg: "fake Koji hub listening",
    url: hub.url,
    user: values.user,
    ...files,
    KOJI_HUBS: JSON.stringify([{ url: hub.url, auth: "ssl", ...files }]),
  }),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void hub.close().then(() => process.exit(0));
  });
}
