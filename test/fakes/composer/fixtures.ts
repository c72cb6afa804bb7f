import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ComposeBodies } from "./server.js";

/**
 * Reads `DIR/<compose_id>/{status,logs,manifests,sboms}.json` (and `download`, streamed from disk when asked
 * for). The JSON files are served byte for byte, so a recorded compose replays exactly as composer sent it.
 * A directory without status.json is not a compose and is skipped.
 */
export function loadComposeFixtures(dir: string): Map<string, ComposeBodies> {
  const composes = new Map<string, ComposeBodies>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const composeDir = join(dir, entry.name);
    const statusFile = join(composeDir, "status.json");
    if (!existsSync(statusFile)) continue;
    const bodies: ComposeBodies = { status: readFileSync(statusFile) };
    for (const name of ["logs", "manifests", "sboms"] as const) {
      const file = join(composeDir, `${name}.json`);
      if (existsSync(file)) bodies[name] = readFileSync(file);
    }
    const download = join(composeDir, "download");
    if (existsSync(download)) bodies.download = { file: download };
    composes.set(entry.name, bodies);
  }
  return composes;
}
