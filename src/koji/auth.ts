import { permanentError, retryableError } from "../errors.js";

/**
 * How a session is obtained. Both ways POST `sslLogin` to `<hub>/ssllogin` (as Koji's own client does); they differ
 * in what proves who we are: the TLS client certificate (already on the transport's connections) or an SPNEGO
 * `Authorization: Negotiate` header made from a Kerberos keytab.
 */
export interface KojiAuthenticator {
  readonly kind: "ssl" | "gssapi";
  /** Extra headers for the login POST. */
  loginHeaders(hubUrl: URL): Promise<Record<string, string>>;
}

/** The client certificate does the work during the TLS handshake; nothing goes in the request itself. */
export function sslAuthenticator(): KojiAuthenticator {
  return { kind: "ssl", loginHeaders: async () => ({}) };
}

/** The slice of the optional `kerberos` npm package this module uses. */
interface KerberosClient {
  step(challenge: string): Promise<string>;
}
interface KerberosModule {
  GSS_MECH_OID_SPNEGO: unknown;
  initializeClient(
    service: string,
    options: { principal?: string; mechOID?: unknown },
  ): Promise<KerberosClient>;
}

function isKerberosModule(value: unknown): value is KerberosModule {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { initializeClient?: unknown }).initializeClient === "function"
  );
}

/**
 * The `kerberos` package is an optional dependency with a native build; a deployment that only uses certificates
 * need not have it. The specifier is a variable so TypeScript does not demand its types at build time.
 */
async function loadKerberos(): Promise<KerberosModule> {
  const specifier = "kerberos";
  let loaded: unknown;
  try {
    loaded = await import(specifier);
  } catch (e) {
    throw permanentError(
      "KOJI_GSSAPI_UNAVAILABLE",
      "Koji GSSAPI login needs the optional 'kerberos' npm package, which is not installed (or failed to build); " +
        "install it or use auth=ssl for this hub",
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
}

export interface GssapiOptions {
  principal: string;
  keytabFile: string;
  /** Injected in tests; production loads the real package. */
  load?: () => Promise<KerberosModule>;
}

/**
 * SPNEGO from a keytab. MIT Kerberos reads the client keytab from KRB5_CLIENT_KTNAME when it has to get a ticket,
 * and that variable is process-wide, so two hubs with different keytabs in one process are refused rather than
 * silently logging in with the wrong identity.
 */
export function gssapiAuthenticator(options: GssapiOptions): KojiAuthenticator {
  return {
    kind: "gssapi",
    async loginHeaders(hubUrl) {
      const current = process.env.KRB5_CLIENT_KTNAME;
      if (
        current !== undefined &&
        current !== options.keytabFile &&
        current !== `FILE:${options.keytabFile}`
      ) {
        throw permanentError(
          "KOJI_GSSAPI_CONFIG",
          `Koji GSSAPI: KRB5_CLIENT_KTNAME is already ${current}; one process can use only one keytab`,
        );
      }
      process.env.KRB5_CLIENT_KTNAME = options.keytabFile;
      const kerberos = await (options.load ?? loadKerberos)();
      try {
        const client = await kerberos.initializeClient(`HTTP@${hubUrl.hostname}`, {
          principal: options.principal,
          mechOID: kerberos.GSS_MECH_OID_SPNEGO,
        });
        const token = await client.step("");
        return { Authorization: `Negotiate ${token}` };
      } catch (e) {
        // Usually the KDC is out of reach, which passes; a keytab without the key fails every time, and the
        // attempt limit bounds that.
        throw retryableError(
          "KOJI_GSSAPI_FAILED",
          `Koji GSSAPI: no ticket for ${options.principal} to HTTP@${hubUrl.hostname}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    },
  };
}
