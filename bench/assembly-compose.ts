import { createHash } from "node:crypto";
import { COMPOSES, loadCompose } from "../test/fixtures/composes.js";

/**
 * A large compose as composer's Cloud API v2 answers for it, for bench/assembly.ts: the sample compose of
 * test/fixtures (the shapes of src/schemas/composer.ts) scaled up. Each image build has the payload RPMs in its
 * `os` pipeline and a build root of its own in `build`, both in osbuild's `org.osbuild.rpm` stage metadata; the
 * osbuild log holds what each stage printed, the rpm stages a line per package installed and one per package
 * verified, as dnf does; the Koji target result lists the image, its osbuild log, its manifest and the SBOMs.
 * The manifests are osbuild v2 manifests with a source and an rpm-stage reference per package. Deterministic.
 */

export interface LargeComposeOptions {
  arches: readonly string[];
  payloadRpms: number;
  buildRootRpms: number;
  sbomsPerImage: number;
}

export interface LargeCompose {
  event: Record<string, unknown>;
  /** The response bodies as composer sends them. */
  bodies: { status: Buffer; logs: Buffer; manifests: Buffer };
}

const hex = (seed: string, length: number) =>
  createHash("sha256").update(seed).digest("hex").slice(0, length);

interface Rpm {
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string;
  sigmd5: string;
  sigpgp: string | null;
  siggpg: null;
}

/** Names and versions shaped like a distribution's: a base name with a few subpackages, dotted versions. */
function rpms(count: number, arch: string, pipeline: string): Rpm[] {
  const subpackages = ["", "-libs", "-devel", "-common", "-tools"];
  return Array.from({ length: count }, (_, i) => {
    const name = `${pipeline === "build" ? "build" : "pkg"}${Math.floor(i / subpackages.length)}${subpackages[i % subpackages.length]}`;
    const noarch = i % 7 === 0;
    return {
      name,
      version: `${1 + (i % 13)}.${i % 29}.${i % 5}`,
      release: `${1 + (i % 40)}.el9${i % 3 === 0 ? "_4" : ""}`,
      epoch: i % 11 === 0 ? 1 + (i % 3) : null,
      arch: noarch ? "noarch" : arch,
      sigmd5: hex(`${arch}/${pipeline}/${i}`, 32),
      sigpgp: i % 50 === 0 ? null : "RSA/SHA256, Tue Jan  7 00:00:00 2025, Key ID 199e2f91fd431d51",
      siggpg: null,
    };
  });
}

const nevra = (p: Rpm) =>
  `${p.name}-${p.epoch === null ? "" : `${p.epoch}:`}${p.version}-${p.release}.${p.arch}`;

/** What dnf prints while the rpm stage installs: a line per package installed and one per package verified. */
function rpmStageOutput(packages: readonly Rpm[]): string {
  const n = packages.length;
  const lines = ["Running transaction check", "Transaction check succeeded.", "Running transaction"];
  for (const verb of ["Installing", "Verifying"])
    for (const [i, p] of packages.entries())
      lines.push(`  ${verb.padEnd(17)}: ${nevra(p).padEnd(48)} ${i + 1}/${n}`);
  lines.push("", "Complete!");
  return `${lines.join("\n")}\n`;
}

function file(filename: string, size: number) {
  return { filename, checksum_type: "sha256", checksum: hex(filename, 64), size };
}

function imageBuild(nvr: string, arch: string, index: number, options: LargeComposeOptions) {
  const image = `${nvr}.${arch}.qcow2`;
  const payload = rpms(options.payloadRpms, arch, "os");
  const buildRoot = rpms(options.buildRootRpms, arch, "build");
  const stage = (type: string, output: string) => ({
    id: hex(`${arch}/${type}`, 64),
    type,
    success: true,
    output,
  });
  const sbomKinds = ["image-os", "buildroot-build", "image-image"];
  return {
    success: true,
    arch,
    host_os: "rhel-9.6",
    image_boot_mode: index === 0 ? "hybrid" : "uefi",
    osbuild_version: "150",
    pipeline_names: { build: ["build"], payload: ["os", "image", "qcow2"] },
    osbuild_output: {
      success: true,
      type: "result",
      log: {
        build: [stage("org.osbuild.rpm", rpmStageOutput(buildRoot)), stage("org.osbuild.selinux", "")],
        os: [
          stage("org.osbuild.kernel-cmdline", ""),
          stage("org.osbuild.rpm", rpmStageOutput(payload)),
          stage("org.osbuild.fix-bls", ""),
          stage("org.osbuild.selinux", "labelling /\n"),
        ],
        image: [
          stage("org.osbuild.truncate", ""),
          stage("org.osbuild.sfdisk", "Checking that no-one is using this disk right now ... OK\n"),
        ],
        qcow2: [stage("org.osbuild.qemu", "")],
      },
      metadata: {
        build: { "org.osbuild.rpm": { packages: buildRoot } },
        os: { "org.osbuild.rpm": { packages: payload }, "org.osbuild.selinux": { labels: {} } },
      },
    },
    target_results: [
      {
        name: "org.osbuild.koji",
        options: {
          image: file(image, 2_147_483_648 + index),
          log: file(`${image}.osbuild.log`, 4_000_000),
          osbuild_manifest: file(`${image}.manifest.json`, 700_000),
          sbom_docs: Array.from({ length: options.sbomsPerImage }, (_, i) =>
            file(
              `${image}.${sbomKinds[i % sbomKinds.length]}${i < sbomKinds.length ? "" : i}.spdx.json`,
              3_000_000,
            ),
          ),
          osbuild_manifest_info: {
            osbuild_composer_version: "git-rev:f6e0e993919cb114e4437299020e80032d0e40a7",
            osbuild_composer_deps: [
              { path: "github.com/osbuild/images", version: "v0.150.0" },
              { path: "github.com/osbuild/blueprint", version: "v1.6.0" },
            ],
          },
        },
        osbuild_artifact: { export_filename: "disk.qcow2", export_name: "qcow2" },
      },
      ...(index === 0
        ? [
            {
              name: "org.osbuild.aws",
              options: { ami: "ami-0c830793775595d4b", region: "eu-west-1" },
              osbuild_artifact: { export_filename: "image.raw", export_name: "image" },
            },
          ]
        : []),
    ],
  };
}

/** An osbuild v2 manifest: a curl source and an rpm-stage reference per package, as composer's manifests carry. */
function manifest(arch: string, options: LargeComposeOptions) {
  const pipeline = (name: string, packages: readonly Rpm[]) => {
    const references = Object.fromEntries(
      packages.map((p) => [`sha256:${hex(nevra(p), 64)}`, { metadata: { "rpm.check_gpg": true } }]),
    );
    return {
      name,
      ...(name === "build" ? { runner: "org.osbuild.rhel96" } : { build: "name:build" }),
      stages: [
        {
          type: "org.osbuild.rpm",
          inputs: { packages: { type: "org.osbuild.files", origin: "org.osbuild.source", references } },
          options: {
            gpgkeys: ["-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n-----END PGP PUBLIC KEY BLOCK-----\n"],
          },
        },
      ],
    };
  };
  const payload = rpms(options.payloadRpms, arch, "os");
  const buildRoot = rpms(options.buildRootRpms, arch, "build");
  const items = Object.fromEntries(
    [...buildRoot, ...payload].map((p) => [
      `sha256:${hex(nevra(p), 64)}`,
      { url: `https://cdn.redhat.com/content/dist/rhel9/9.6/${arch}/baseos/os/Packages/${nevra(p)}.rpm` },
    ]),
  );
  return {
    version: "2",
    pipelines: [pipeline("build", buildRoot), pipeline("os", payload)],
    sources: { "org.osbuild.curl": { items } },
  };
}

export function largeCompose(options: LargeComposeOptions): LargeCompose {
  const sample = loadCompose(COMPOSES.success);
  const id = sample.event.compose_id as string;
  const koji = sample.event.koji as Record<string, unknown>;
  const nvr = `${koji.name}-${koji.version}-${koji.release}`;
  const ref = (kind: string, suffix = "") => ({
    id,
    kind,
    href: `/api/image-builder-composer/v2/composes/${id}${suffix}`,
  });
  const builds = options.arches.map((arch, i) => imageBuild(nvr, arch, i, options));
  const status = {
    ...ref("ComposeStatus"),
    status: "success",
    image_status: { status: "success" },
    image_statuses: builds.map(() => ({ status: "success" })),
    koji_status: {},
  };
  const logs = { ...ref("ComposeLogs", "/logs"), image_builds: builds };
  const manifests = {
    ...ref("ComposeManifests", "/manifests"),
    manifests: options.arches.map((arch) => manifest(arch, options)),
  };
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));
  return {
    event: sample.event,
    bodies: { status: body(status), logs: body(logs), manifests: body(manifests) },
  };
}
