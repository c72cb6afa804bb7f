import { parseArgs } from "node:util";
import { reproduceCommands } from "../core/readers.js";
import { permanentError } from "../errors.js";
import { readJsonFile } from "./read-json-file.js";
import { UsageError } from "./usage-error.js";

export const summary = "print how to rebuild each image of a Koji build locally with osbuild";
export const usage =
  "usage: osbuild-koji-importer reproduce --build B.json [--json]   (B.json: a Koji getBuild result)";

export async function run(argv: string[]): Promise<number> {
  let values: { build?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { build: { type: "string" }, json: { type: "boolean" } },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, usage);
  }
  if (!values.build) throw new UsageError("missing --build", usage);
  const build = await readJsonFile(values.build);
  if (typeof build !== "object" || build === null || Array.isArray(build)) {
    throw permanentError("INPUT_INVALID", `${values.build}: expected a Koji build object`);
  }
  const steps = reproduceCommands(build);
  if (steps.length === 0) {
    throw permanentError(
      "INPUT_INVALID",
      `${values.build}: invalid extra.typeinfo.image: the build has no image metadata`,
    );
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(steps, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [];
  for (const step of steps) {
    lines.push(`# ${step.image} (${step.arch ?? "unknown arch"})`);
    lines.push(`# 1. download the manifest: ${step.manifest ?? "(this build has no manifest for it)"}`);
    lines.push(`# 2. use osbuild version ${step.osbuild_version ?? "(unknown)"}`);
    lines.push(`# 3. build on a ${step.arch ?? "matching"} host:`);
    lines.push(step.command);
    lines.push(`# the image: ${step.artifact_path}`);
    lines.push("");
  }
  process.stdout.write(lines.join("\n"));
  return 0;
}
