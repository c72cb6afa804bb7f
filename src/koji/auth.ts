import { permanentError, retryableError } from "../errors.js";

/**
 * How a session is obtained. Both ways POST `sslLogin` to `<hub>/ssllogin` (as Koji's own client does); they differ
 * in what proves who we are: the TLS client certificate (already on the transport's connections) or an SPNEGO
 * `Authorization: Negotiate` header made from a Kerberos keytab.
 */
export interface KojiAuthenticator {
  readonly kind: "ssl" | "gssapi";
  /** Who logs in, for error messages: the Kerberos principal, or that a client certificate does. */
  readonly identity: string;
  /** Extra headers for the login POST. */
  loginHeaders(hubUrl: URL): Promise<Record<string, string>>;
}

/** The client certificate does the work during the TLS handshake; nothing goes in the request itself. */
export function sslAuthenticator(): KojiAuthenticator {
  return { kind: "ssl", identity: "the client certificate", loginHeaders: async () => ({}) };
}

/** The slice of the optional `kerberos` npm package this module uses. */
export interface KerberosClient {
  step(challenge: string): Promise<string>;
}
export interface KerberosModule {
  GSS_MECH_OID_SPNEGO: unknown;
  initializeClient(
    service: string,
    options: { principal?: string; mechOID?: unknown },
  ): Promise<KerberosClient>;
}

/** Loads the `kerberos` package; injected in tests, so that they do not depend on what this machine has built. */
export type KerberosLoader = () => Promise<KerberosModule>;

function isKerberosModule(value: unknown): value is KerberosModule {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { initializeClient?: unknown }).initializeClient === "function"
  );
}

/**
 * The `kerberos` package is an optional dependency with a native build; a deployment that only uses certificates
 * need not have it. `importModule` is the dynamic import, injected in tests so they see both a machine with the
 * addon and one without.
 */
export function kerberosLoader(importModule: (specifier: string) => Promise<unknown>): KerberosLoader {
  return async () => {
    let loaded: unknown;
    try {
      loaded = await importModule("kerberos");
    } catch (e) {
      throw permanentError(
        "KOJI_GSSAPI_UNAVAILABLE",
        "Koji GSSAPI login needs the optional 'kerberos' npm package, which is not installed or failed to build " +
          `(${(e as Error).message}); install it where libkrb5's headers are, or use auth=ssl for this hub`,
        { cause: e },
      );
    }
    const candidate = (loaded as { default?: unknown }).default ?? loaded;
    if (!isKerberosModule(candidate)) {
      throw permanentError(
        "KOJI_GSSAPI_UNAVAILABLE",
        "Koji GSSAPI: the 'kerberos' package has an unexpected API",
      );
    }
    return candidate;
  };
}

/** The real package. The specifier is a variable so TypeScript does not demand its types at build time. */
export const loadKerberos: KerberosLoader = kerberosLoader((specifier) => import(specifier));

export interface GssapiOptions {
  principal: string;
  keytabFile: string;
  /** Injected in tests; production loads the real package. */
  load?: KerberosLoader;
}

/**
 * The credential cache a login uses when the operator has not chosen one with KRB5CCNAME: in this process's memory,
 * one per principal. The system default (often a FILE cache shared with whoever ran kinit) may already hold
 * another principal's ticket, and Kerberos then refuses to get ours ("Principal in credential cache does not
 * match desired name"); a MEMORY cache is not a collection, so two principals cannot share one either.
 */
export function privateCredentialCache(principal: string): string {
  return `MEMORY:osbuild-koji-importer:${principal}`;
}

/**
 * MIT Kerberos takes the client keytab (KRB5_CLIENT_KTNAME) and the credential cache (KRB5CCNAME) from the process
 * environment, read when a ticket is requested. So one ticket request runs at a time, with the variables of its
 * hub set for just that long: two hubs with different keytabs or principals can then share a process. Logins are
 * rare (one per hub session), so the queue costs nothing that matters.
 */
let gssapiQueue: Promise<unknown> = Promise.resolve();

function exclusively<T>(work: () => Promise<T>): Promise<T> {
  const run = gssapiQueue.then(work, work);
  gssapiQueue = run.catch(() => undefined);
  return run;
}

async function withEnvironment<T>(variables: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** SPNEGO from a keytab: no kinit, the ticket is obtained (and renewed when it expires) from the keytab's key. */
export function gssapiAuthenticator(options: GssapiOptions): KojiAuthenticator {
  return {
    kind: "gssapi",
    identity: options.principal,
    async loginHeaders(hubUrl) {
      const kerberos = await (options.load ?? loadKerberos)();
      const variables: Record<string, string> = { KRB5_CLIENT_KTNAME: options.keytabFile };
      if (process.env.KRB5CCNAME === undefined) {
        variables.KRB5CCNAME = privateCredentialCache(options.principal);
      }
      try {
        const token = await exclusively(() =>
          withEnvironment(variables, async () => {
            const client = await kerberos.initializeClient(`HTTP@${hubUrl.hostname}`, {
              principal: options.principal,
              mechOID: kerberos.GSS_MECH_OID_SPNEGO,
            });
            return client.step("");
          }),
        );
        return { Authorization: `Negotiate ${token}` };
      } catch (e) {
        // Usually the KDC is out of reach, which passes. A keytab without the principal's key is refused at start
        // (src/koji/credentials.ts); one whose key the KDC no longer accepts fails every time, and the attempt limit
        // bounds that.
        throw retryableError(
          "KOJI_GSSAPI_FAILED",
          `Koji GSSAPI: no ticket for ${options.principal} to HTTP@${hubUrl.hostname}: ${(e as Error).message}`,
          { cause: e, details: { principal: options.principal, keytab: options.keytabFile } },
        );
      }
    },
  };
}
