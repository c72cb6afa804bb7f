import { randomUUID } from "node:crypto";
import type { KojiHubConfig } from "../../src/config/schema.js";
import { artifactStream } from "../fixtures/artifacts.js";
import { COMPOSES, type ComposeFixture, loadCompose, uploadedFiles } from "../fixtures/composes.js";
import { type FakeComposer, startFakeComposer } from "./composer/server.js";
import { uploadFile } from "./composer-worker/upload.js";
import { openUploadClient } from "./composer-worker/upload-client.js";
import { type FakeKojiHub, startFakeKojiHub } from "./koji/server.js";

export const TASK_ID = 987654;

/**
 * The importer's outside world for tests, the demo and the bench: a fake Koji hub (the `osbuild` user granted the
 * CG, the sample task known), a fake composer, and composer's worker's part: a copy of a sample compose served
 * under a fresh id with its outputs uploaded to the hub, as composer leaves a finished compose.
 */
export interface FakeEnvironment {
  hub: FakeKojiHub;
  composer: FakeComposer;
  /** The importer's KOJI_HUBS entry for the fake hub. */
  kojiHubs: KojiHubConfig[];
  prepareCompose(options?: { fixture?: string; upload?: boolean; release?: string }): Promise<{
    composeId: string;
    event: Record<string, any>;
    bodies: ComposeFixture;
  }>;
  close(): Promise<void>;
}

export async function startFakeEnvironment(): Promise<FakeEnvironment> {
  const hub = await startFakeKojiHub();
  hub.grant("osbuild");
  hub.addTask(TASK_ID);
  const composer = await startFakeComposer();
  const cert = hub.clientCert("osbuild");
  const osbuild = {
    url: hub.url,
    auth: "ssl" as const,
    cert_file: cert.certFile,
    key_file: cert.keyFile,
    ca_file: hub.pki.caFile,
  };
  const kojiHubs: KojiHubConfig[] = [osbuild];
  // composer's worker, which uploads what it built before it publishes the event.
  const uploader = await openUploadClient(osbuild);
  return {
    hub,
    composer,
    kojiHubs,
    async prepareCompose(options = {}) {
      const composeId = randomUUID();
      const bodies = loadCompose(options.fixture ?? COMPOSES.success);
      const directory = `osbuild-cg/osbuild-composer-koji-${composeId}`;
      const event = {
        ...bodies.event,
        compose_id: composeId,
        koji: {
          ...(bodies.event.koji as Record<string, unknown>),
          server: hub.url,
          release: options.release ?? `1.${composeId.slice(0, 8)}`,
          upload_directory: directory,
        },
      } as Record<string, any>;
      composer.addCompose(composeId, {
        status: bodies.status,
        logs: bodies.logs,
        manifests: bodies.manifests,
      });
      if (options.upload !== false && bodies.event.status === "success") {
        await Promise.all(
          uploadedFiles(bodies.logs).map((file) =>
            uploadFile(uploader.client, {
              directory,
              filename: file.filename,
              source: artifactStream(file.filename, file.size),
            }),
          ),
        );
      }
      return { composeId, event, bodies };
    },
    async close() {
      await uploader.close();
      await composer.close();
      await hub.close();
    },
  };
}
