import type { RpmComponent } from "../schemas/cg-metadata.js";
import { type RpmStagePackage, RpmStagePackageSchema } from "../schemas/composer.js";
import { parseInput } from "../validation.js";

const RPM_STAGE = "org.osbuild.rpm";

/** Koji's NEVRA identity of a package: `name-[epoch:]version-release.arch`. */
export function nevra(component: RpmComponent): string {
  const epoch = component.epoch === undefined || component.epoch === null ? "" : `${component.epoch}:`;
  return `${component.name}-${epoch}${component.version}-${component.release}.${component.arch}`;
}

/** Koji wants the epoch as a string and no key at all for "no epoch"; the signature is always present. */
export function toRpmComponent(pkg: RpmStagePackage): RpmComponent {
  const component: RpmComponent = {
    type: "rpm",
    name: pkg.name,
    version: pkg.version,
    release: pkg.release,
    arch: pkg.arch,
    sigmd5: pkg.sigmd5,
    signature: pkg.siggpg || pkg.sigpgp || null,
  };
  if (pkg.epoch !== undefined && pkg.epoch !== null) component.epoch = String(pkg.epoch);
  return component;
}

/**
 * The RPMs installed by the given pipelines' `org.osbuild.rpm` stages, in pipeline order then stage order,
 * de-duplicated by NEVRA with the first occurrence kept (so the order is stable for identical input).
 */
export function rpmComponents(
  metadata: Record<string, Record<string, unknown>> | null | undefined,
  pipelines: readonly string[],
  where: string,
): RpmComponent[] {
  const seen = new Set<string>();
  const components: RpmComponent[] = [];
  for (const pipeline of pipelines) {
    const stages = metadata?.[pipeline];
    if (!stages) continue;
    for (const [stage, stageMetadata] of Object.entries(stages)) {
      if (stage !== RPM_STAGE || stageMetadata === null || typeof stageMetadata !== "object") continue;
      const packages = (stageMetadata as { packages?: unknown }).packages;
      if (!Array.isArray(packages)) continue;
      packages.forEach((raw, index) => {
        const pkg = parseInput(
          RpmStagePackageSchema,
          raw,
          `${where}: osbuild_output.metadata.${pipeline}.${stage}.packages[${index}]`,
          "COMPOSER_INVALID_RESPONSE",
        );
        const component = toRpmComponent(pkg);
        const key = nevra(component);
        if (seen.has(key)) return;
        seen.add(key);
        components.push(component);
      });
    }
  }
  return components;
}
