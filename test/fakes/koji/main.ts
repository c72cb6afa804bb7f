import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { latencyFromSettings } from "./latency.js";
import { startFakeKojiHub } from "./server.js";

/**
 * `npm run fake:koji -- [--port N] [--dir D] [--user osbuild] [--task ID ...] [latency and outage options]`
 * Runs the fake hub alone: prints its URL and writes the test CA and a client certificate for `--user` (granted
 * the `osbuild` content generator) into D, with a KOJI_HUBS value ready for the importer's environment.
 *
 * A hub under load (latency.ts), each option or its environment variable:
 *   --service-ms CGImport=200,CGInitBuild=5   FAKE_KOJI_SERVICE_MS     milliseconds per call of each method
 *   --max-concurrent CGImport=4               FAKE_KOJI_MAX_CONCURRENT calls of a method at once, the rest queue
 *   --hub-concurrency 8                       FAKE_KOJI_HUB_CONCURRENCY requests at once (Apache's workers)
 *   --outage offline|http503                  FAKE_KOJI_OUTAGE         start down; SIGUSR2 toggles the outage
 */
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    dir: { type: "string", default: ".tmp/fake-koji" },
    user: { type: "string", default: "osbuild" },
    task: { type: "string", multiple: true, default: ["987654"] },
    "service-ms": { type: "string", default: process.env.FAKE_KOJI_SERVICE_MS },
    "max-concurrent": { type: "string", default: process.env.FAKE_KOJI_MAX_CONCURRENT },
    "hub-concurrency": { type: "string", default: process.env.FAKE_KOJI_HUB_CONCURRENCY },
    outage: { type: "string", default: process.env.FAKE_KOJI_OUTAGE },
  },
});

const { latency, outage } = latencyFromSettings({
  serviceMs: values["service-ms"],
  maxConcurrent: values["max-concurrent"],
  hubConcurrency: values["hub-concurrency"],
  outage: values.outage,
});
const hub = await startFakeKojiHub({ port: Number(values.port), latency, ...(outage ? { outage } : {}) });
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
    latency,
    outage: hub.settings.outage,
  }),
);

// An outage on demand: down (as it started, or `offline`) and back up, each said on a line.
process.on("SIGUSR2", () => {
  hub.settings.outage = hub.settings.outage ? false : (outage ?? "offline");
  console.log(JSON.stringify({ msg: "fake Koji hub outage", outage: hub.settings.outage }));
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void hub.close().then(() => process.exit(0));
  });
}
