import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assembleCgMetadata } from "../../src/core/assemble.js";
import { ImporterError } from "../../src/errors.js";
import { CgMetadataSchema } from "../../src/schemas/cg-metadata.js";
import { ComposeLogsSchema } from "../../src/schemas/composer.js";
import { type KojiComposeFinishedEvent, parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import {
  SEED_BUILD_EXTRA,
  SEED_IMAGE_METADATA,
  SEED_MANIFEST_METADATA,
  seedEvent,
  seedImageBuild,
  seedLogs,
} from "./seed.js";

type Json = Record<string, unknown>;

function assemble(builds: Json[], event: Json = seedEvent(), buildId = 7) {
  return assembleCgMetadata({
    event: parseComposeFinishedEvent(event) as KojiComposeFinishedEvent,
    logs: ComposeLogsSchema.parse(seedLogs(builds)),
    buildId,
  });
}

function assembleError(builds: Json[]): ImporterError {
  try {
    assemble(builds);
  } catch (error) {
    if (error instanceof ImporterError) return error;
    throw error;
  }
  throw new Error("expected assembly to fail");
}

const kojiOptions = (build: Json) => ((build.target_results as Json[])[0] as Json).options as Json;

describe("assembleCgMetadata: the seed's examples", () => {
  const doc = assemble([seedImageBuild()]);

  it("attaches the image output metadata exactly as the integration document shows", () => {
    const image = doc.output.find((o) => o.type === "image");
    expect(image?.extra).toEqual({ image: SEED_IMAGE_METADATA });
  });

  it("attaches the manifest output metadata exactly as the integration document shows", () => {
    const manifest = doc.output.find((o) => o.type === "osbuild-manifest");
    expect(manifest?.filename).toBe("name-version-release.x86_64.raw.xz.manifest.json");
    expect(manifest?.extra).toEqual({ image: SEED_MANIFEST_METADATA });
  });

  it("builds the build metadata exactly as the integration document shows", () => {
    expect(doc.build.extra).toEqual(SEED_BUILD_EXTRA);
  });

  it("gives logs no type info, no components and arch noarch", () => {
    const log = doc.output.find((o) => o.type === "log");
    expect(log).toEqual({
      buildroot_id: 0,
      filename: "name-version-release.x86_64.raw.xz.osbuild.log",
      filesize: 10,
      checksum_type: "md5",
      checksum: "b".repeat(32),
      arch: "noarch",
      type: "log",
    });
  });

  it("fills the build from the event and the reservation", () => {
    expect(doc.build).toMatchObject({
      build_id: 7,
      task_id: 42,
      name: "name",
      version: "version",
      release: "release",
      source: "",
      start_time: Date.parse("2025-07-02T16:29:15Z") / 1000,
      end_time: Date.parse("2025-07-02T17:00:00Z") / 1000,
    });
    expect(doc.metadata_version).toBe(0);
  });
});

describe("assembleCgMetadata: the shared osbuild-shaped example document", () => {
  const fixture = JSON.parse(
    readFileSync(new URL("../fixtures/koji-cg/example-osbuild-cg-metadata.json", import.meta.url), "utf8"),
  ) as { metadata: Json; upload_directory: string };
  const expected = fixture.metadata as { build: Json; output: Json[]; buildroots: Json[] };

  it("is reproduced from the composer results it was made from", () => {
    const out = expected.output;
    const pick = (i: number) => {
      const o = out[i] as Json;
      return { filename: o.filename, checksum_type: o.checksum_type, checksum: o.checksum, size: o.filesize };
    };
    const imageExtra = (out[0] as { extra: { image: Json } }).extra.image;
    const manifestExtra = (out[1] as { extra: { image: Json } }).extra.image;
    const build = {
      success: true,
      arch: "x86_64",
      host_os: "rhel-9.6",
      image_boot_mode: "hybrid",
      osbuild_version: "150",
      pipeline_names: { build: ["build"], payload: ["os"] },
      osbuild_output: {
        success: true,
        metadata: {
          build: {
            "org.osbuild.rpm": {
              packages: [
                {
                  name: "glibc",
                  version: "2.41",
                  release: "1.fc42",
                  epoch: null,
                  arch: "x86_64",
                  sigmd5: "0123456789abcdef0123456789abcdef",
                  sigpgp: "RSA/SHA256, Thu Jan  1 00:00:00 2025, Key ID 0123456789abcdef",
                  siggpg: null,
                },
              ],
            },
          },
          os: {
            "org.osbuild.rpm": {
              packages: [
                {
                  name: "bash",
                  version: "5.2.37",
                  release: "1.fc42",
                  epoch: 0,
                  arch: "x86_64",
                  sigmd5: "fedcba9876543210fedcba9876543210",
                  sigpgp: null,
                  siggpg: null,
                },
              ],
            },
          },
        },
      },
      target_results: [
        {
          name: "org.osbuild.koji",
          options: {
            image: pick(0),
            osbuild_manifest: pick(1),
            log: pick(2),
            sbom_docs: [pick(3), pick(4)],
            osbuild_manifest_info: manifestExtra.info,
          },
          osbuild_artifact: imageExtra.osbuild_artifact,
        },
        ...(imageExtra.upload_target_results as Json[]),
      ],
    };
    const b = expected.build as {
      task_id: number;
      name: string;
      version: string;
      release: string;
      build_id: number;
    };
    const event = {
      ...seedEvent(),
      submitted_at: new Date((expected.build.start_time as number) * 1000).toISOString(),
      finished_at: new Date((expected.build.end_time as number) * 1000).toISOString(),
      koji: { ...seedEvent().koji, task_id: b.task_id, name: b.name, version: b.version, release: b.release },
    };
    expect(assemble([build], event, b.build_id)).toEqual(expected);
  });
});

describe("assembleCgMetadata: rules", () => {
  it("refuses a failed image build, naming its index and the reason", () => {
    const failed = {
      ...seedImageBuild(),
      success: false,
      job_error: { id: 10, reason: "osbuild build failed" },
    };
    const error = assembleError([seedImageBuild(), failed]);
    expect(error.code).toBe("COMPOSE_NOT_IMPORTABLE");
    expect(error.retryable).toBe(false);
    expect(error.message).toBe("image build 1 failed: osbuild build failed");
    expect(assembleError([{ ...seedImageBuild(), success: false }]).message).toContain(
      "image build 0 failed",
    );
    const osbuildFailed = { ...seedImageBuild(), osbuild_output: { success: false } };
    expect(assembleError([osbuildFailed]).message).toBe("image build 0 failed: osbuild did not succeed");
  });

  it("needs exactly one Koji target result per image build", () => {
    const none = { ...seedImageBuild(), target_results: [] };
    expect(assembleError([none]).message).toBe(
      "image build 0 has 0 org.osbuild.koji target results, expected exactly 1",
    );
    const base = seedImageBuild();
    const targets = base.target_results as Json[];
    const two = { ...base, target_results: [targets[0], targets[0]] };
    expect(assembleError([seedImageBuild(), two]).message).toContain("image build 1 has 2 org.osbuild.koji");
  });

  it("names the field of a malformed Koji target result", () => {
    const build = seedImageBuild();
    (kojiOptions(build).image as Json).size = "big";
    expect(assembleError([build]).message).toContain(
      "image_builds[0].target_results[0].options: invalid image.size",
    );
  });

  it("collects RPMs of the build and payload pipelines, de-duplicated by NEVRA, first occurrence first", () => {
    const pkg = (name: string, extra: Json = {}) => ({
      name,
      version: "1",
      release: "1",
      epoch: null,
      arch: "x86_64",
      sigmd5: "s",
      ...extra,
    });
    const build = {
      ...seedImageBuild(),
      pipeline_names: { build: ["build"], payload: ["os", "extra"] },
      osbuild_output: {
        success: true,
        metadata: {
          build: {
            "org.osbuild.rpm": {
              packages: [pkg("b1", { siggpg: "gpg", sigpgp: "pgp" }), pkg("b1", { siggpg: "gpg" })],
            },
          },
          os: {
            "org.osbuild.rpm": { packages: [pkg("p1", { sigpgp: "pgp" }), pkg("p2", { epoch: 3 })] },
            "org.osbuild.other": { packages: [pkg("ignored")] },
          },
          extra: {
            "org.osbuild.rpm": { packages: [pkg("p1", { sigpgp: "later" }), pkg("p1", { epoch: 1 })] },
          },
          unlisted: { "org.osbuild.rpm": { packages: [pkg("never")] } },
        },
      },
    };
    const doc = assemble([build]);
    expect(doc.buildroots[0]?.components).toEqual([
      { type: "rpm", name: "b1", version: "1", release: "1", arch: "x86_64", sigmd5: "s", signature: "gpg" },
    ]);
    expect(doc.output[0]?.components).toEqual([
      { type: "rpm", name: "p1", version: "1", release: "1", arch: "x86_64", sigmd5: "s", signature: "pgp" },
      {
        type: "rpm",
        name: "p2",
        version: "1",
        release: "1",
        epoch: "3",
        arch: "x86_64",
        sigmd5: "s",
        signature: null,
      },
      {
        type: "rpm",
        name: "p1",
        version: "1",
        release: "1",
        epoch: "1",
        arch: "x86_64",
        sigmd5: "s",
        signature: null,
      },
    ]);
  });

  it("leaves out image components when the payload has no RPMs, and upload results when there are none", () => {
    const build = seedImageBuild();
    build.target_results = [(build.target_results as Json[])[0]];
    const image = assemble([build]).output[0] as Json;
    expect(image).not.toHaveProperty("components");
    expect(image.extra).toEqual({ image: { ...SEED_IMAGE_METADATA, upload_target_results: undefined } });
    expect((image.extra as { image: Json }).image).not.toHaveProperty("upload_target_results");
  });

  it("lists every non-Koji target result verbatim", () => {
    const build = seedImageBuild();
    const gcp = { name: "org.osbuild.gcp", options: { project_id: "p", image_name: "i" }, future_field: [1] };
    (build.target_results as Json[]).push(gcp);
    const extra = assemble([build]).output[0]?.extra as { image: { upload_target_results: Json[] } };
    const info = extra.image;
    expect(info.upload_target_results).toEqual([SEED_IMAGE_METADATA.upload_target_results[0], gcp]);
  });

  it("orders outputs image, manifest, log, SBOMs per build, with buildroot ids by build index", () => {
    const first = seedImageBuild();
    const sbom = (n: string) => ({ filename: n, checksum_type: "sha256", checksum: "f".repeat(64), size: 5 });
    kojiOptions(first).sbom_docs = [sbom("a.spdx.json"), sbom("b.spdx.json")];
    const second = seedImageBuild();
    second.arch = "aarch64";
    const opts = kojiOptions(second);
    for (const key of ["image", "log", "osbuild_manifest"]) {
      const f = opts[key] as Json;
      f.filename = String(f.filename).replace("x86_64", "aarch64");
    }
    delete opts.osbuild_manifest;
    const doc = assemble([first, second]);
    expect(doc.output.map((o) => [o.buildroot_id, o.type, o.arch])).toEqual([
      [0, "image", "x86_64"],
      [0, "osbuild-manifest", "x86_64"],
      [0, "log", "noarch"],
      [0, "sbom-doc", "x86_64"],
      [0, "sbom-doc", "x86_64"],
      [1, "image", "aarch64"],
      [1, "log", "noarch"],
    ]);
    expect(doc.output[3]?.extra).toEqual({ image: { arch: "x86_64" } });
    expect(doc.buildroots.map((r) => [r.id, r.host, r.container, r.content_generator, r.tools])).toEqual([
      [
        0,
        { os: "rhel-9.6", arch: "x86_64" },
        { type: "none", arch: "x86_64" },
        { name: "osbuild", version: "93" },
        [],
      ],
      [
        1,
        { os: "rhel-9.6", arch: "aarch64" },
        { type: "none", arch: "aarch64" },
        { name: "osbuild", version: "93" },
        [],
      ],
    ]);
    expect(Object.keys((doc.build.extra.typeinfo as { image: Json }).image)).toHaveLength(2);
    expect(Object.keys(doc.build.extra.osbuild_manifest as Json)).toEqual([
      "name-version-release.x86_64.raw.xz.manifest.json",
    ]);
  });

  it("leaves osbuild_manifest out of the build when no manifest was reported, but keeps typeinfo.image", () => {
    const build = seedImageBuild();
    delete kojiOptions(build).osbuild_manifest;
    const doc = assemble([build]);
    expect(doc.build.extra).not.toHaveProperty("osbuild_manifest");
    expect(doc.build.extra.typeinfo).toEqual(SEED_BUILD_EXTRA.typeinfo);
    expect(doc.output.map((o) => o.type)).toEqual(["image", "log"]);
  });

  it("refuses two outputs with one filename across image builds", () => {
    expect(assembleError([seedImageBuild(), seedImageBuild()]).message).toMatch(
      /output\[3\]\.filename: duplicate output filename name-version-release\.x86_64\.raw\.xz/,
    );
  });

  it("refuses a checksum that does not match its type and a filename Koji would reject", () => {
    const badSum = seedImageBuild();
    (kojiOptions(badSum).image as Json).checksum = "ABC";
    expect(assembleError([badSum]).message).toContain("output[0].checksum: is not a md5 checksum");
    const badName = seedImageBuild();
    (kojiOptions(badName).log as Json).filename = "../escape.log";
    expect(assembleError([badName]).message).toContain("must not contain '/'");
    const dotName = seedImageBuild();
    (kojiOptions(dotName).log as Json).filename = ".hidden.log";
    expect(assembleError([dotName]).message).toContain("must not start with '.'");
  });

  it("requires what composer may omit but the document needs, by name", () => {
    const noBootMode = seedImageBuild();
    delete noBootMode.image_boot_mode;
    expect(assembleError([noBootMode]).message).toBe("image build 0 has no image_boot_mode");
    const noArtifact = seedImageBuild();
    delete ((noArtifact.target_results as Json[])[0] as Json).osbuild_artifact;
    expect(assembleError([noArtifact]).message).toContain("has no osbuild_artifact");
    const noInfo = seedImageBuild();
    delete kojiOptions(noInfo).osbuild_manifest_info;
    expect(assembleError([noInfo]).message).toContain("no osbuild_manifest_info");
    expect(assembleError([]).message).toBe("the compose reports no image builds");
  });

  it("gives byte-identical output for the same compose fed twice", () => {
    const fixture = loadCompose(COMPOSES.success);
    const run = () => {
      const f = loadCompose(COMPOSES.success);
      return JSON.stringify(
        assembleCgMetadata({
          event: parseComposeFinishedEvent(f.event) as KojiComposeFinishedEvent,
          logs: ComposeLogsSchema.parse(f.logs),
          buildId: 1,
        }),
      );
    };
    const first = run();
    expect(run()).toBe(first);
    expect(fixture.logs).toEqual(loadCompose(COMPOSES.success).logs);
  });

  it("assembles the sample composes into documents that meet Koji's rules", () => {
    for (const id of [COMPOSES.success, COMPOSES.reserved]) {
      const f = loadCompose(id);
      const doc = assembleCgMetadata({
        event: parseComposeFinishedEvent(f.event) as KojiComposeFinishedEvent,
        logs: ComposeLogsSchema.parse(f.logs),
        buildId: 1001,
      });
      expect(CgMetadataSchema.safeParse(doc).success).toBe(true);
      expect(doc.output).toHaveLength(8);
      // glibc appears twice in each build pipeline's stage and once in the document.
      expect(doc.buildroots[0]?.components.map((c) => (c as { name: string }).name)).toEqual([
        "glibc",
        "rpm",
      ]);
    }
  });
});
