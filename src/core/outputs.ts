import type { Output, RpmComponent } from "../schemas/cg-metadata.js";
import type {
  KojiUploadedFile,
  OsbuildArtifact,
  OsbuildManifestInfo,
  TargetResult,
} from "../schemas/composer.js";
import type { CheckedImageBuild } from "./image-build.js";

/** `extra.image` of an image output, and its entry in the build's `extra.typeinfo.image`. */
export interface ImageExtraInfo {
  arch: string;
  boot_mode: string;
  osbuild_artifact: OsbuildArtifact;
  osbuild_version: string;
  upload_target_results?: TargetResult[];
}

/** `extra.image` of a manifest output, and its entry in the build's `extra.osbuild_manifest`. */
export interface ManifestExtraInfo {
  arch: string;
  info: OsbuildManifestInfo;
}

export function imageExtraInfo(build: CheckedImageBuild): ImageExtraInfo {
  const info: ImageExtraInfo = {
    arch: build.arch,
    boot_mode: build.bootMode,
    osbuild_artifact: build.osbuildArtifact,
    osbuild_version: build.osbuildVersion,
  };
  if (build.uploadTargetResults.length > 0) info.upload_target_results = build.uploadTargetResults;
  return info;
}

function fileFields(buildrootId: number, file: KojiUploadedFile) {
  return {
    buildroot_id: buildrootId,
    filename: file.filename,
    filesize: file.size,
    checksum_type: file.checksum_type as Output["checksum_type"],
    checksum: file.checksum,
  };
}

export interface BuildOutputs {
  outputs: Output[];
  image: { filename: string; info: ImageExtraInfo };
  manifest?: { filename: string; info: ManifestExtraInfo };
}

/** The outputs of one image build in composer's order: image, manifest, log, then each SBOM. */
export function buildOutputs(build: CheckedImageBuild, payloadRpms: RpmComponent[]): BuildOutputs {
  const { koji, arch, index } = build;
  const imageInfo = imageExtraInfo(build);
  const image: Output = {
    ...fileFields(index, koji.image),
    arch,
    type: "image",
    extra: { image: imageInfo },
  };
  if (payloadRpms.length > 0) image.components = payloadRpms;
  const outputs: Output[] = [image];
  const result: BuildOutputs = { outputs, image: { filename: koji.image.filename, info: imageInfo } };

  if (koji.osbuild_manifest) {
    const manifestInfo: ManifestExtraInfo = {
      arch,
      // checkImageBuild refused a manifest without its info, so it is here.
      info: koji.osbuild_manifest_info as OsbuildManifestInfo,
    };
    outputs.push({
      ...fileFields(index, koji.osbuild_manifest),
      arch,
      type: "osbuild-manifest",
      extra: { image: manifestInfo },
    });
    result.manifest = { filename: koji.osbuild_manifest.filename, info: manifestInfo };
  }
  if (koji.log) outputs.push({ ...fileFields(index, koji.log), arch: "noarch", type: "log" });
  for (const sbom of koji.sbom_docs ?? []) {
    outputs.push({ ...fileFields(index, sbom), arch, type: "sbom-doc", extra: { image: { arch } } });
  }
  return result;
}
