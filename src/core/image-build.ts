import { permanentError } from "../errors.js";
import {
  KOJI_TARGET_NAME,
  type KojiTargetResultOptions,
  KojiTargetResultOptionsSchema,
  type OsbuildArtifact,
  type OsbuildJobResult,
  type TargetResult,
} from "../schemas/composer.js";
import { parseInput } from "../validation.js";

/**
 * One image build of the compose, checked for what assembly needs, with its Koji target result picked out.
 * Everything composer left optional in the API but the CG document requires is demanded here, by name.
 */
export interface CheckedImageBuild {
  index: number;
  arch: string;
  hostOs: string;
  bootMode: "legacy" | "uefi" | "hybrid" | "none";
  osbuildVersion: string;
  pipelineNames: { build: string[]; payload: string[] };
  metadata: Record<string, Record<string, unknown>>;
  koji: KojiTargetResultOptions;
  osbuildArtifact: OsbuildArtifact;
  /** Every non-Koji target result, verbatim: where else the image went (AWS, GCP, ...). */
  uploadTargetResults: TargetResult[];
}

function notImportable(index: number, reason: string): never {
  throw permanentError("COMPOSE_NOT_IMPORTABLE", `image build ${index} ${reason}`, {
    details: { image_build: index },
  });
}

function required<T>(value: T | null | undefined, index: number, field: string): T {
  if (value === undefined || value === null) notImportable(index, `has no ${field}`);
  return value;
}

export function checkImageBuild(result: OsbuildJobResult, index: number): CheckedImageBuild {
  if (result.job_error) notImportable(index, `failed: ${result.job_error.reason}`);
  if (!result.success) notImportable(index, "failed: the job did not succeed");
  if (!result.osbuild_output?.success) notImportable(index, "failed: osbuild did not succeed");

  const targets = result.target_results ?? [];
  const kojiTargets = targets.filter((target) => target.name === KOJI_TARGET_NAME);
  if (kojiTargets.length !== 1) {
    notImportable(index, `has ${kojiTargets.length} ${KOJI_TARGET_NAME} target results, expected exactly 1`);
  }
  const kojiTarget = kojiTargets[0] as TargetResult;
  if (kojiTarget.target_error)
    notImportable(index, `failed its Koji upload: ${kojiTarget.target_error.reason}`);
  const koji = parseInput(
    KojiTargetResultOptionsSchema,
    kojiTarget.options,
    `logs: image_builds[${index}].target_results[${targets.indexOf(kojiTarget)}].options`,
    "COMPOSER_INVALID_RESPONSE",
  );

  if (koji.osbuild_manifest && !koji.osbuild_manifest_info) {
    notImportable(index, "reports an osbuild manifest but no osbuild_manifest_info");
  }

  return {
    index,
    arch: required(result.arch, index, "arch"),
    hostOs: required(result.host_os, index, "host_os"),
    bootMode: required(result.image_boot_mode, index, "image_boot_mode"),
    osbuildVersion: required(result.osbuild_version, index, "osbuild_version"),
    pipelineNames: required(result.pipeline_names, index, "pipeline_names"),
    metadata: result.osbuild_output.metadata ?? {},
    koji,
    osbuildArtifact: required(
      kojiTarget.osbuild_artifact,
      index,
      "osbuild_artifact in its Koji target result",
    ),
    uploadTargetResults: targets.filter((target) => target.name !== KOJI_TARGET_NAME),
  };
}
