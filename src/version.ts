import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * The version from package.json, the one place it is written: `--version`, /healthz, /openapi.json and the
 * build_info metric read it here. The file is one level up from src/ (tsx) and dist/ (built, and in the image).
 */
export const VERSION: string = z
  .object({ version: z.string().min(1) })
  .parse(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))).version;
