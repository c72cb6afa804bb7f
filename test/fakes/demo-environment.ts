import { randomUUID } from "node:crypto";
import { KojiHubs } from "../../src/koji/hubs.js";
import { uploadFile } from "../../src/koji/upload.js";
import { artifactStream } from "../fixtures/artifacts.js";
import { COMPOSES, loadCompose, uploadedFiles } from "../fixtures/composes.js";
import { startFakeComposer } from "./composer/server.js";
import { startFakeKojiHub } from "./koji/server.js";

/**
 * The outside world for `npm run demo`: a fake composer serving a fresh copy of the sample compose, a fake Koji
 * hub, and composer's worker's part (uploading the compose's outputs to the hub). Prints one JSON line with what
 * the importer needs, then serves until it is terminated.
 */
const hub = await startFakeKojiHub();
hub.grant("osbuild");
hub.addTask(987654);
const composer = await startFakeComposer();
const cert = hub.clientCert("osbuild");
const kojiHubs = [
  {
    url: hub.url,
    auth: "ssl" as const,
    cert_file: cert.certFile,
    key_file: cert.keyFile,
    ca_file: hub.pki.caFile,
  },
];

const composeId = randomUUID();
const bodies = loadCompose(COMPOSES.success);
const event = {
  ...bodies.event,
  compose_id: composeId,
  finished_at: new Date().toISOString(),
  koji: {
    ...(bodies.event.koji as Record<string, unknown>),
    server: hub.url,
    release: `${new Date().toISOString().slice(0, 10).replace(/-/g, "")}.${composeId.slice(0, 8)}`,
    upload_directory: `osbuild-cg/osbuild-composer-koji-${composeId}`,
  },
};
composer.addCompose(composeId, { status: bodies.status, logs: bodies.logs, manifests: bodies.manifests });

const uploader = new KojiHubs({ hubs: kojiHubs });
const client = await uploader.client(hub.url);
for (const file of uploadedFiles(bodies.logs)) {
  await uploadFile(client, {
    directory: event.koji.upload_directory,
    filename: file.filename,
    source: artifactStream(file.filename, file.size),
  });
}
await uploader.close();

console.log(JSON.stringify({ kojiHubs: JSON.stringify(kojiHubs), composerUrl: composer.url, event }));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void Promise.all([hub.close(), composer.close()]).then(() => process.exit(0));
  });
}
