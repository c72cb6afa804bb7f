import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * The version from package.json, the one place it is written: the CLI's `--version`, /healthz, the
 * `build_info` metric and the OpenAPI document read it here. package.json sits one directory above both
 * src/ (tsx, tests) and dist/ (the image copies it beside dist/).
 */
const PackageJson = z.object({ name: z.string(), version: z.string().min(1) });

const manifest = PackageJson.parse(
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")),
);

export const VERSION: string = manifest.version;
export const PACKAGE_NAME: string = manifest.name;
