import { permanentError } from "../errors.js";
import { type Buildroot, type CgMetadata, CgMetadataSchema } from "../schemas/cg-metadata.js";
import type { ComposeLogs } from "../schemas/composer.js";
import type { KojiComposeFinishedEvent } from "../schemas/event.js";
import { formatIssues } from "../validation.js";
import { checkImageBuild } from "./image-build.js";
import { buildOutputs, type ImageExtraInfo, type ManifestExtraInfo } from "./outputs.js";
import { rpmComponents } from "./rpm-components.js";

export const CONTENT_GENERATOR = "osbuild";

export interface AssembleInput {
  event: KojiComposeFinishedEvent;
  logs: ComposeLogs;
  /**
   * The reservation (composer's `koji.init` or the importer's CGInitBuild). The pipeline assembles before it
   * reserves, so a compose Koji would refuse costs no reservation; it adds the id with `withBuildId` after.
   */
  buildId?: number;
}

function unixSeconds(rfc3339: string): number {
  return Math.floor(Date.parse(rfc3339) / 1000);
}

/**
 * The Koji CG import document for a finished compose, as composer's koji-finalize builds it: one buildroot and
 * one set of outputs per image build, in `image_builds` order, and the build-level maps keyed by filename.
 * Pure and deterministic: the same input gives byte-identical JSON.
 */
export function assembleCgMetadata({ event, logs, buildId }: AssembleInput): CgMetadata {
  const buildroots: Buildroot[] = [];
  const outputs: CgMetadata["output"] = [];
  const typeinfoImage: Record<string, ImageExtraInfo> = {};
  const manifests: Record<string, ManifestExtraInfo> = {};

  if (logs.image_builds.length === 0) {
    throw permanentError("COMPOSE_NOT_IMPORTABLE", "the compose reports no image builds");
  }
  logs.image_builds.forEach((result, index) => {
    const build = checkImageBuild(result, index);
    const where = `logs: image_builds[${index}]`;
    buildroots.push({
      id: index,
      host: { os: build.hostOs, arch: build.arch },
      content_generator: { name: CONTENT_GENERATOR, version: build.osbuildVersion },
      container: { type: "none", arch: build.arch },
      tools: [],
      components: rpmComponents(build.metadata, build.pipelineNames.build, where),
    });
    const built = buildOutputs(build, rpmComponents(build.metadata, build.pipelineNames.payload, where));
    outputs.push(...built.outputs);
    typeinfoImage[built.image.filename] = built.image.info;
    if (built.manifest) manifests[built.manifest.filename] = built.manifest.info;
  });

  const extra: Record<string, unknown> = { typeinfo: { image: typeinfoImage } };
  if (Object.keys(manifests).length > 0) extra.osbuild_manifest = manifests;

  const document: CgMetadata = {
    metadata_version: 0,
    build: {
      ...(buildId === undefined ? {} : { build_id: buildId }),
      task_id: event.koji.task_id,
      name: event.koji.name,
      version: event.koji.version,
      release: event.koji.release,
      source: "",
      start_time: unixSeconds(event.submitted_at),
      end_time: unixSeconds(event.finished_at),
      extra,
    },
    buildroots,
    output: outputs,
  };
  // The assembler's own output must meet Koji's rules; a composer that reports two outputs with one filename,
  // say, is caught here rather than by the hub after the reservation.
  const checked = CgMetadataSchema.safeParse(document);
  if (!checked.success) {
    throw permanentError(
      "COMPOSE_NOT_IMPORTABLE",
      `the assembled CG document breaks Koji's rules: ${formatIssues(checked.error)}`,
    );
  }
  return document;
}

/** The document with its reservation's build id, placed first in `build` as composer places it. */
export function withBuildId(document: CgMetadata, buildId: number): CgMetadata {
  const { build_id: _old, ...build } = document.build;
  return { ...document, build: { build_id: buildId, ...build } };
}
