import { readFile } from "node:fs/promises";
import type { KojiHubConfig } from "../config/schema.js";
import { ImporterError, permanentError } from "../errors.js";
import { type KerberosLoader, loadKerberos } from "./auth.js";
import { KeytabFormatError, keytabPrincipals } from "./keytab.js";

/**
 * Start-up check of every configured hub's credentials, so that a deployment that cannot log in is refused before
 * it consumes anything, with the hub and the file named. Found at the first import instead, a keytab without the
 * principal's key was retried for hours as a passing Kerberos failure before anything was dead-lettered.
 *
 * Only what can be known without the KDC or the hub is checked: the `kerberos` addon loads, the files can be read,
 * the keytab holds a key for the principal. A KDC or hub out of reach at start is not a configuration error.
 */

export interface CredentialCheckOptions {
  /** Injected in tests; production loads the real `kerberos` package. */
  loadKerberos?: KerberosLoader;
}

/** One line per problem, every hub checked (an operator fixes them all in one round). */
export async function hubCredentialProblems(
  hubs: readonly KojiHubConfig[],
  options: CredentialCheckOptions = {},
): Promise<string[]> {
  const problems: string[] = [];
  let addon: Promise<string | undefined> | undefined;
  const addonProblem = () => {
    addon ??= (options.loadKerberos ?? loadKerberos)().then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    return addon;
  };
  for (const [index, hub] of hubs.entries()) {
    const where = `KOJI_HUBS[${index}] ${hub.url}`;
    if (hub.auth === "gssapi") {
      const missing = await addonProblem();
      if (missing) problems.push(`${where}: auth gssapi: ${missing}`);
      const keytab = await readable(hub.keytab_file.replace(/^FILE:/, ""));
      if (typeof keytab === "string") {
        problems.push(`${where}: keytab_file ${hub.keytab_file} ${keytab}`);
      } else {
        const lacks = keytabLacks(keytab, hub.principal);
        if (lacks) problems.push(`${where}: keytab_file ${hub.keytab_file} ${lacks}`);
      }
    } else {
      for (const [field, file] of [
        ["cert_file", hub.cert_file],
        ["key_file", hub.key_file],
      ] as const) {
        const reason = await readable(file);
        if (typeof reason === "string") problems.push(`${where}: ${field} ${file} ${reason}`);
      }
    }
    if (hub.ca_file !== undefined) {
      const reason = await readable(hub.ca_file);
      if (typeof reason === "string") problems.push(`${where}: ca_file ${hub.ca_file} ${reason}`);
    }
  }
  return problems;
}

/** Throws CONFIG_INVALID listing every problem; start-up calls this before it connects to anything. */
export async function checkHubCredentials(
  hubs: readonly KojiHubConfig[],
  options: CredentialCheckOptions = {},
): Promise<void> {
  const problems = await hubCredentialProblems(hubs, options);
  if (problems.length > 0) {
    throw permanentError("CONFIG_INVALID", `configuration: ${problems.join("; ")}`, {
      details: { problems },
    });
  }
}

/** The file's bytes, or why they cannot be had. */
async function readable(file: string): Promise<Uint8Array | string> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "does not exist";
    if (code === "EACCES" || code === "EPERM")
      return `cannot be read by this process (uid ${process.getuid?.()})`;
    if (code === "EISDIR") return "is a directory, not a file";
    return `cannot be read: ${(e as Error).message}`;
  }
}

/** Why the keytab cannot log `principal` in, or undefined. A principal without a realm is in the default realm. */
function keytabLacks(bytes: Uint8Array, principal: string): string | undefined {
  let held: string[];
  try {
    held = keytabPrincipals(bytes);
  } catch (e) {
    if (e instanceof KeytabFormatError || e instanceof ImporterError) return `is not a keytab: ${e.message}`;
    throw e;
  }
  const matches = principal.includes("@")
    ? held.includes(principal)
    : held.some((p) => p.slice(0, p.lastIndexOf("@")) === principal);
  if (matches) return undefined;
  return `holds no key for ${principal} (it holds: ${held.join(", ") || "nothing"})`;
}
