import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KojiHubs } from "../../src/koji/hubs.js";
import type { ArchiveType } from "../../src/koji/schemas.js";
import { ArchiveTypeCache, archiveTypeFor } from "../../src/pipeline/archive-types.js";
import type { ImportContext } from "../../src/pipeline/context.js";
import { preflight } from "../../src/pipeline/steps/preflight.js";
import { archiveTypeOf, realArchiveTypes } from "../fakes/koji/archive-types.js";
import { type FakeKojiHub, startFakeKojiHub } from "../fakes/koji/server.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { caught } from "../support/caught.js";

/** Names composer's image types and Koji's table meet in, with the type the real 1.35.3 hub gives each. */
const NAMES: Array<[string, string | undefined]> = [
  ["Fedora-Cloud-Base-43.x86_64.qcow2", "qcow2"],
  ["disk.QCOW2", "qcow2"],
  ["disk.Raw.Xz", "raw-xz"],
  ["image.raw.xz", "raw-xz"],
  ["image.raw.gz", "raw-gz"],
  ["image.qcow2.xz", "qcow2-compressed"],
  ["image.vagrant-libvirt.box", "box"],
  ["container.tar.gz", "tar"],
  ["container.tar.xz", "tar"],
  ["container.tgz", "tar"],
  ["image.oci.tar", "tar"],
  ["installer.iso", "iso"],
  ["image.wsl", "wsl"],
  ["image.erofs", "erofs"],
  ["image.erofs.xz", "erofs-compressed"],
  ["manifest.json", "json"],
  ["disk.xz", undefined],
  ["disk.zst", undefined],
  ["noextension", undefined],
];

describe("archive types as Koji's get_archive_type gives them", () => {
  const table = realArchiveTypes() as ArchiveType[];

  it.each(NAMES)("%s → %s", (filename, type) => {
    expect(archiveTypeFor(table, filename)).toBe(type);
    // The fake hub types them the same way: the pre-flight check and the hub agree.
    expect(archiveTypeOf(realArchiveTypes(), filename)).toBe(type);
  });
});

describe("pre-flight on the real hub's types", () => {
  let hub: FakeKojiHub;
  let hubs: KojiHubs;

  beforeAll(async () => {
    hub = await startFakeKojiHub();
    hub.grant("osbuild");
    const cert = hub.clientCert("osbuild");
    hubs = new KojiHubs({
      hubs: [
        {
          url: hub.url,
          auth: "ssl",
          cert_file: cert.certFile,
          key_file: cert.keyFile,
          ca_file: hub.pki.caFile,
        },
      ],
    });
  });

  afterAll(async () => {
    await hubs.close();
    await hub.close();
  });

  it("refuses a plain .xz output the hub would refuse during its file move, and passes a .QCOW2", async () => {
    const image = (filename: string) => ({
      buildroot_id: 1,
      filename,
      filesize: 1,
      arch: "x86_64",
      checksum: "0".repeat(64),
      checksum_type: "sha256",
      type: "image",
      extra: { image: { arch: "x86_64" } },
    });
    const ctx = {
      koji: await hubs.client(hub.url),
      archiveTypes: new ArchiveTypeCache(),
      event: { koji: { upload_directory: "dir" } },
      settings: { maxMetadataBytes: 4_194_304 },
      row: {
        koji_token: null,
        compose_logs: loadCompose(COMPOSES.success).logs,
        cg_metadata: { build: {}, output: [image("disk.QCOW2"), image("disk.xz")] },
      },
    } as unknown as ImportContext;
    const error = await caught(preflight(ctx));
    expect(error.code).toBe("KOJI_PREFLIGHT");
    expect(error.details.problems).toEqual([
      `disk.xz: extension is not a registered archive type on ${hub.url}`,
    ]);
  });
});
