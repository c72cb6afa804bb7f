import { existsSync } from "node:fs";
import type { KojiHubConfig } from "../src/config/schema.js";

/**
 * The real Koji hub the benches may run against, from the variables the realhub toolkit documents: REALHUB_STATE
 * (its state folder, default /srv/realhub: the PKI with the osbuild certificate) and REALHUB_PORT (default 18443,
 * the vhost that asks every connection for its certificate). REALHUB_TASK names a task row builds may point at
 * (default 4242, which the toolkit makes). Nothing of the toolkit itself is read.
 */
export interface RealHubConfig {
  url: string;
  taskId: number;
  /** osbuild, who has the `osbuild` content generator: the importer's login and composer's for uploads. */
  kojiHub: Extract<KojiHubConfig, { auth: "ssl" }>;
}

export function realHubFromEnv(env: NodeJS.ProcessEnv = process.env): RealHubConfig {
  const state = env.REALHUB_STATE ?? "/srv/realhub";
  const port = Number(env.REALHUB_PORT ?? "18443");
  const url = `https://localhost:${port}/kojihub`;
  const kojiHub = {
    url,
    auth: "ssl" as const,
    cert_file: `${state}/pki/osbuild.crt`,
    key_file: `${state}/pki/osbuild.key`,
    ca_file: `${state}/pki/ca.crt`,
  };
  for (const file of [kojiHub.cert_file, kojiHub.key_file, kojiHub.ca_file])
    if (!existsSync(file)) throw new Error(`no real hub: ${file} does not exist (REALHUB_STATE=${state})`);
  return { url, taskId: Number(env.REALHUB_TASK ?? "4242"), kojiHub };
}
