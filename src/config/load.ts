import { ImporterError } from "../errors.js";
import { formatPath } from "../validation.js";
import { type Env, EnvSchema, type KojiHubConfig, SECRET_VARIABLES } from "./schema.js";
import { resolveFileVariables } from "./secrets.js";

export interface Config extends Env {
  kojiHubs: KojiHubConfig[];
}

/**
 * A configuration the process refuses to start with: every problem found, one line each (`VARIABLE: what is
 * wrong`). The CLI prints them and exits 78 (EX_CONFIG), without a stack trace.
 */
export class ConfigError extends ImporterError {
  constructor(readonly problems: string[]) {
    super("permanent", "CONFIG_INVALID", `configuration: ${problems.join("; ")}`, { details: { problems } });
  }
}

/** Exit status of a process that refuses its configuration (sysexits.h EX_CONFIG). */
export const EX_CONFIG = 78;

/**
 * Reads and checks the whole configuration at start-up. Every missing or invalid value is reported at once, one
 * per line, so an operator fixes a deployment in one round instead of one crash per variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const resolved = resolveFileVariables(env, SECRET_VARIABLES, problems);
  const parsed = EnvSchema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // The first path element is the variable: `KOJI_HUBS[0].key_file`, not `KOJI_HUBS.[0]...`.
      problems.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return { ...parsed.data, kojiHubs: parsed.data.KOJI_HUBS ?? [] };
}

/** The configuration with secrets masked, for a start-up log line. */
export function describeConfig(config: Config): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...config };
  for (const name of SECRET_VARIABLES) if (shown[name] !== undefined) shown[name] = "[redacted]";
  shown.kojiHubs = config.kojiHubs.map((hub) => ({ url: hub.url, auth: hub.auth }));
  return shown;
}
