import { open } from "node:fs/promises";
import { type Config, ConfigError } from "../config/load.js";
import { kerberosCredentialProblems } from "../koji/credentials.js";

/** What a process runs: `worker` imports (start, worker), `admin` serves the HTTP API (start, serve). */
export type Role = "worker" | "admin";

/**
 * One check of the configuration against the machine, run once at start-up before anything connects: a file
 * that cannot be read, a hub that cannot be logged in to. It returns its problems, one line each, led by the
 * variable they are about; every check runs, so one start reports them all.
 */
export interface StartupCheck {
  roles: readonly Role[];
  run(config: Config): Promise<string[]>;
}

async function unreadable(variable: string, file: string | undefined): Promise<string[]> {
  if (file === undefined) return [];
  try {
    const handle = await open(file, "r");
    try {
      if (!(await handle.stat()).isFile()) return [`${variable}: ${file} is not a file`];
    } finally {
      await handle.close();
    }
    return [];
  } catch (error) {
    return [`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`];
  }
}

const kojiHubsConfigured: StartupCheck = {
  roles: ["worker"],
  async run(config) {
    return config.kojiHubs.length === 0
      ? ["KOJI_HUBS: no Koji hub configured; the worker could import nothing"]
      : [];
  },
};

const filesReadable: StartupCheck = {
  roles: ["worker"],
  async run(config) {
    const files: Array<[string, string | undefined]> = [
      ["COMPOSER_CERT_FILE", config.COMPOSER_AUTH === "mtls" ? config.COMPOSER_CERT_FILE : undefined],
      ["COMPOSER_KEY_FILE", config.COMPOSER_AUTH === "mtls" ? config.COMPOSER_KEY_FILE : undefined],
      ["COMPOSER_CA_FILE", config.COMPOSER_CA_FILE],
    ];
    config.kojiHubs.forEach((hub, i) => {
      const at = `KOJI_HUBS[${i}]`;
      files.push([`${at}.ca_file`, hub.ca_file]);
      if (hub.auth === "ssl")
        files.push([`${at}.cert_file`, hub.cert_file], [`${at}.key_file`, hub.key_file]);
      else files.push([`${at}.keytab_file`, hub.keytab_file]);
    });
    return (await Promise.all(files.map(([variable, file]) => unreadable(variable, file)))).flat();
  },
};

/** A gssapi hub needs the kerberos addon and a keytab with the principal's key (src/koji/credentials.ts). */
const kerberosCredentials: StartupCheck = {
  roles: ["worker"],
  run: (config) => kerberosCredentialProblems(config.kojiHubs),
};

/** Every start-up check, in the order their problems are listed. Add a check here to have `start` run it. */
export const STARTUP_CHECKS: readonly StartupCheck[] = [
  kojiHubsConfigured,
  filesReadable,
  kerberosCredentials,
];

/** Runs the checks for the process's roles; any problem refuses the start (ConfigError, exit 78). */
export async function checkStartup(
  config: Config,
  roles: readonly Role[],
  checks: readonly StartupCheck[] = STARTUP_CHECKS,
): Promise<void> {
  const wanted = checks.filter((check) => check.roles.some((role) => roles.includes(role)));
  const problems = (await Promise.all(wanted.map((check) => check.run(config)))).flat();
  if (problems.length > 0) throw new ConfigError(problems);
}
