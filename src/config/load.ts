import { z } from "zod";
import { permanentError } from "../errors.js";
import { formatIssues } from "../validation.js";
import { type Env, EnvSchema, type KojiHubConfig, KojiHubConfigSchema, SECRET_VARIABLES } from "./schema.js";
import { resolveFileVariables } from "./secrets.js";

export interface Config extends Env {
  kojiHubs: KojiHubConfig[];
}

const KojiHubListSchema = z.array(KojiHubConfigSchema);

/**
 * Reads and checks the whole configuration at start-up. Every missing or invalid value is reported at once, one
 * per line, so an operator fixes a deployment in one round instead of one crash per variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let resolved: Record<string, string | undefined>;
  try {
    resolved = resolveFileVariables(env, SECRET_VARIABLES);
  } catch (error) {
    throw permanentError("CONFIG_INVALID", `configuration: ${(error as Error).message}`);
  }
  const parsed = EnvSchema.safeParse(resolved);
  if (!parsed.success) {
    throw permanentError("CONFIG_INVALID", `configuration: invalid ${formatIssues(parsed.error)}`);
  }
  const config = parsed.data;
  const problems: string[] = [];
  if (config.COMPOSER_AUTH === "oauth") {
    for (const name of ["COMPOSER_TOKEN_URL", "COMPOSER_CLIENT_ID", "COMPOSER_CLIENT_SECRET"] as const) {
      if (!config[name]) problems.push(`${name}: required when COMPOSER_AUTH=oauth`);
    }
  }
  if (config.COMPOSER_AUTH === "mtls") {
    for (const name of ["COMPOSER_CERT_FILE", "COMPOSER_KEY_FILE"] as const) {
      if (!config[name]) problems.push(`${name}: required when COMPOSER_AUTH=mtls`);
    }
  }
  let kojiHubs: KojiHubConfig[] = [];
  if (config.KOJI_HUBS) {
    let raw: unknown;
    try {
      raw = JSON.parse(config.KOJI_HUBS);
    } catch {
      problems.push("KOJI_HUBS: not valid JSON");
    }
    if (raw !== undefined) {
      const hubs = KojiHubListSchema.safeParse(raw);
      if (hubs.success) kojiHubs = hubs.data;
      else problems.push(`KOJI_HUBS: invalid ${formatIssues(hubs.error)}`);
    }
  }
  if (problems.length > 0) throw permanentError("CONFIG_INVALID", `configuration: ${problems.join("; ")}`);
  return { ...config, kojiHubs };
}

/** The configuration with secrets masked, for a start-up log line. */
export function describeConfig(config: Config): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...config };
  for (const name of SECRET_VARIABLES) if (shown[name] !== undefined) shown[name] = "[redacted]";
  shown.kojiHubs = config.kojiHubs.map((hub) => ({ url: hub.url, auth: hub.auth }));
  return shown;
}
