/** The examples of shared/docs/koji-integration.md ("Type-specific metadata"), and an osbuild job result that should produce them. */
export const SEED_IMAGE_METADATA = {
  arch: "x86_64",
  boot_mode: "hybrid",
  osbuild_artifact: { export_filename: "image.raw.xz", export_name: "xz" },
  osbuild_version: "93",
  upload_target_results: [
    {
      name: "org.osbuild.aws",
      options: { ami: "ami-0d06fff61b0395df0", region: "us-east-1" },
      osbuild_artifact: { export_filename: "image.raw.xz", export_name: "xz" },
    },
  ],
};

export const SEED_MANIFEST_METADATA = {
  arch: "x86_64",
  info: {
    osbuild_composer_version: "git-rev:f6e0e993919cb114e4437299020e80032d0e40a7",
    osbuild_composer_deps: [{ path: "github.com/osbuild/images", version: "v0.7.0" }],
  },
};

export const SEED_BUILD_EXTRA = {
  typeinfo: { image: { "name-version-release.x86_64.raw.xz": SEED_IMAGE_METADATA } },
  osbuild_manifest: { "name-version-release.x86_64.raw.xz.manifest.json": SEED_MANIFEST_METADATA },
};

const md5 = (c: string) => c.repeat(32).slice(0, 32);

export function seedEvent() {
  return {
    type: "compose.finished" as const,
    version: 1 as const,
    compose_id: "11111111-2222-4333-8444-555555555555",
    status: "success" as const,
    submitted_at: "2025-07-02T16:29:15Z",
    finished_at: "2025-07-02T17:00:00+00:00",
    koji: {
      server: "https://koji.example.org/kojihub",
      task_id: 42,
      name: "name",
      version: "version",
      release: "release",
      upload_directory: "osbuild-cg/osbuild-composer-koji-11111111-2222-4333-8444-555555555555",
    },
  };
}

/** An osbuild job result shaped like composer's, for the seed's x86_64 raw.xz image. */
export function seedImageBuild(): Record<string, unknown> {
  const image = "name-version-release.x86_64.raw.xz";
  return {
    success: true,
    arch: "x86_64",
    host_os: "rhel-9.6",
    image_boot_mode: "hybrid",
    osbuild_version: "93",
    pipeline_names: { build: ["build"], payload: ["os", "image", "xz"] },
    osbuild_output: { success: true, metadata: {} },
    target_results: [
      {
        name: "org.osbuild.koji",
        options: {
          image: { filename: image, checksum_type: "md5", checksum: md5("a"), size: 1000 },
          log: { filename: `${image}.osbuild.log`, checksum_type: "md5", checksum: md5("b"), size: 10 },
          osbuild_manifest: {
            filename: `${image}.manifest.json`,
            checksum_type: "md5",
            checksum: md5("c"),
            size: 20,
          },
          osbuild_manifest_info: SEED_MANIFEST_METADATA.info,
        },
        osbuild_artifact: { export_filename: "image.raw.xz", export_name: "xz" },
      },
      SEED_IMAGE_METADATA.upload_target_results[0],
    ],
  };
}

export function seedLogs(builds: Array<Record<string, unknown>> = [seedImageBuild()]) {
  return { id: "x", kind: "ComposeLogs", href: "/x", image_builds: builds };
}
