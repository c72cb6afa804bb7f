import { readFile } from "node:fs/promises";
import type { KojiHubConfig } from "../config/schema.js";
import { type KerberosLoader, loadKerberos } from "./auth.js";
import { KeytabFormatError, keytabPrincipals } from "./keytab.js";

/**
 * What start-up can know about a Kerberos (gssapi) hub's login without the KDC or the hub: the `kerberos` addon
 * loads and the keytab holds a key for the principal. Found at the first import instead, a keytab without the
 * principal's key was retried for hours as a passing Kerberos failure ("Can't find client principal ... in cache
 * collection") before anything was dead-lettered. A KDC or hub out of reach at start is not a configuration error,
 * so neither is asked. Whether the files can be read at all is the start-up checks' file check.
 */

export interface CredentialCheckOptions {
  /** Injected in tests; production loads the real `kerberos` package. */
  loadKerberos?: KerberosLoader;
}

/** One line per problem, led by the hub's field and naming the hub and the file; every hub is checked. */
export async function kerberosCredentialProblems(
  hubs: readonly KojiHubConfig[],
  options: CredentialCheckOptions = {},
): Promise<string[]> {
  const problems: string[] = [];
  let addon: Promise<string | undefined> | undefined;
  for (const [index, hub] of hubs.entries()) {
    if (hub.auth !== "gssapi") continue;
    const at = `KOJI_HUBS[${index}]`;
    addon ??= (options.loadKerberos ?? loadKerberos)().then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    const missing = await addon;
    if (missing) problems.push(`${at}.auth: hub ${hub.url} uses gssapi: ${missing}`);
    const lacks = await keytabLacks(hub.keytab_file, hub.principal);
    if (lacks) problems.push(`${at}.keytab_file: ${hub.keytab_file} (hub ${hub.url}) ${lacks}`);
  }
  return problems;
}

/** Why the keytab cannot log `principal` in, or undefined. A principal without a realm is in the default realm. */
async function keytabLacks(keytabFile: string, principal: string): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(keytabFile.replace(/^FILE:/, ""));
  } catch {
    return undefined; // unreadable: reported once, by the start-up checks' file check
  }
  let held: string[];
  try {
    held = keytabPrincipals(bytes);
  } catch (e) {
    if (e instanceof KeytabFormatError) return `is not a keytab: ${e.message}`;
    throw e;
  }
  const matches = principal.includes("@")
    ? held.includes(principal)
    : held.some((p) => p.slice(0, p.lastIndexOf("@")) === principal);
  if (matches) return undefined;
  return `holds no key for ${principal} (it holds: ${held.join(", ") || "nothing"})`;
}
