import { parseArgs } from "node:util";
import { assembleCgMetadata } from "../core/assemble.js";
import { permanentError } from "../errors.js";
import { ComposeLogsSchema, ComposeManifestsSchema, ComposeStatusSchema } from "../schemas/composer.js";
import { isKojiEvent, parseComposeFinishedEvent } from "../schemas/event.js";
import { parseInput } from "../validation.js";
import { readJsonFile } from "./read-json-file.js";
import { UsageError } from "./usage-error.js";

export const summary = "print the Koji CG metadata document for a finished compose";
export const usage =
  "usage: osbuild-koji-importer assemble --event E.json --status S.json --logs L.json --manifests M.json [--build-id N]";

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        event: { type: "string" },
        status: { type: "string" },
        logs: { type: "string" },
        manifests: { type: "string" },
        "build-id": { type: "string" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, usage);
  }
  const missing = ["event", "status", "logs", "manifests"].filter((name) => !values[name]);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(", ")}`, usage);
  const paths = values as Record<"event" | "status" | "logs" | "manifests", string>;

  const event = parseComposeFinishedEvent(await readJsonFile(paths.event));
  if (!isKojiEvent(event)) {
    throw permanentError(
      "EVENT_NOT_KOJI",
      `${paths.event}: the event has no koji section; nothing to import`,
    );
  }
  const status = parseInput(ComposeStatusSchema, await readJsonFile(paths.status), paths.status);
  parseInput(ComposeManifestsSchema, await readJsonFile(paths.manifests), paths.manifests);
  const logs = parseInput(ComposeLogsSchema, await readJsonFile(paths.logs), paths.logs);

  // Without a reservation at hand, the build id is the one composer reported (koji.init, then koji_status).
  const buildId = values["build-id"]
    ? Number(values["build-id"])
    : (logs.koji?.init.build_id ?? status.koji_status?.build_id);
  if (buildId === undefined || !Number.isInteger(buildId) || buildId <= 0) {
    throw new UsageError("no Koji build id in the logs or status: pass --build-id N", usage);
  }
  const document = assembleCgMetadata({ event, logs, buildId });
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}
