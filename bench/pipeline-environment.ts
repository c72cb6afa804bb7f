import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { KojiHubs } from "../src/koji/hubs.js";
import { uploadFile } from "../src/koji/upload.js";
import { startFakeComposer } from "../test/fakes/composer/server.js";
import { startFakeKojiHub } from "../test/fakes/koji/server.js";
import { artifactStream } from "../test/fixtures/artifacts.js";
import { COMPOSES, loadCompose, uploadedFiles } from "../test/fixtures/composes.js";

/**
 * The bench's outside world, in a process of its own: the fake composer and fake Koji hub, and N composes
 * prepared as composer would leave them (outputs uploaded). Writes the events to the file named by argv[3] and
 * prints one JSON line with the endpoints when ready.
 */
const count = Number(process.argv[2] ?? "2000");
const eventsFile = process.argv[3] ?? "/tmp/oki-bench-events.json";
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
const uploader = new KojiHubs({ hubs: kojiHubs });
const client = await uploader.client(hub.url);
const bodies = loadCompose(COMPOSES.success);
const files = uploadedFiles(bodies.logs);
const events: unknown[] = [];
for (let i = 0; i < count; i++) {
  const composeId = randomUUID();
  const directory = `osbuild-cg/osbuild-composer-koji-${composeId}`;
  composer.addCompose(composeId, { status: bodies.status, logs: bodies.logs, manifests: bodies.manifests });
  await Promise.all(
    files.map((f) =>
      uploadFile(client, { directory, filename: f.filename, source: artifactStream(f.filename, f.size) }),
    ),
  );
  events.push({
    ...bodies.event,
    compose_id: composeId,
    koji: {
      ...(bodies.event.koji as object),
      server: hub.url,
      release: `b${i}.${composeId.slice(0, 8)}`,
      upload_directory: directory,
    },
  });
}
await uploader.close();
writeFileSync(eventsFile, JSON.stringify(events));
console.log(JSON.stringify({ kojiHubs: JSON.stringify(kojiHubs), composerUrl: composer.url, eventsFile }));
process.once("SIGTERM", () => void Promise.all([hub.close(), composer.close()]).then(() => process.exit(0)));
