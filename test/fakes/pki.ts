import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";

/**
 * The fakes' one throwaway PKI (Koji hub and composer alike): a CA with a server certificate for
 * 127.0.0.1/localhost, client certificates whose CN is the user, and client certificates from another CA that a
 * fake must refuse. Server certificates that clients must refuse (expired, not yet valid, another name, another
 * CA) are issued on demand. Written to a temp directory as PEM files too (the transports read files, as in
 * production). Keys come from Node's native generator (node-forge's pure-JS one takes seconds per key); node-forge
 * only signs.
 */

export interface Pem {
  cert: string;
  key: string;
}

export interface ClientCert extends Pem {
  certFile: string;
  keyFile: string;
}

export interface Validity {
  /** Valid from; a minute ago by default. */
  notBefore?: Date;
  /** Valid until; a day from now by default. */
  notAfter?: Date;
}

export interface ServerCertOptions extends Validity {
  /** DNS names and IP addresses it is for; `localhost` and `127.0.0.1` by default. */
  hosts?: readonly string[];
  /** Signed by a different CA than `ca` (the one stranger() uses), which no client is given. */
  otherCa?: boolean;
}

export interface TestPki {
  dir: string;
  ca: Pem;
  caFile: string;
  /** Valid for localhost and 127.0.0.1, from `ca`. */
  server: Pem;
  /** Another server certificate (and key), for a server a client must or must not accept. */
  serverCert(options?: ServerCertOptions): Pem;
  /** A client certificate whose CN is the user; valid from a minute ago for a day unless `validity` says. */
  client(cn: string, validity?: Validity): ClientCert;
  /** A client certificate signed by a different CA. */
  stranger(cn: string): ClientCert;
  cleanup(): void;
}

function newKey(): { pem: string; forgeKey: forge.pki.rsa.PrivateKey; forgePublic: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  const forgePublic = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  return { pem, forgeKey, forgePublic };
}

let serial = 1;

function sign(
  subjectCn: string,
  publicKey: forge.pki.rsa.PublicKey,
  issuer: { cert?: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey },
  extensions: object[],
  validity: Validity = {},
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = String(serial++).padStart(4, "0");
  cert.validity.notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notAfter = validity.notAfter ?? new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: "commonName", value: subjectCn }]);
  cert.setIssuer(issuer.cert ? issuer.cert.subject.attributes : [{ name: "commonName", value: subjectCn }]);
  cert.setExtensions(extensions);
  cert.sign(issuer.key, forge.md.sha256.create());
  return cert;
}

function newCa(name: string): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey; pem: string } {
  const key = newKey();
  const cert = sign(name, key.forgePublic, { key: key.forgeKey }, [
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
  ]);
  return { cert, key: key.forgeKey, pem: key.pem };
}

type Issuer = { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };

/** A client certificate and key for `cn`, as PEM text and as files in `dir` (each certificate its own files). */
function issueClient(
  dir: string,
  cn: string,
  issuer: Issuer,
  prefix: string,
  validity: Validity = {},
): ClientCert {
  const key = newKey();
  const cert = sign(
    cn,
    key.forgePublic,
    issuer,
    [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", clientAuth: true },
    ],
    validity,
  );
  const pem = forge.pki.certificateToPem(cert);
  // A second certificate for the same user (an expired one, say) leaves the first one's files intact.
  const certFile = join(dir, `${prefix}${cn}-${cert.serialNumber}.crt`);
  const keyFile = join(dir, `${prefix}${cn}-${cert.serialNumber}.key`);
  writeFileSync(certFile, pem);
  writeFileSync(keyFile, key.pem, { mode: 0o600 });
  return { cert: pem, key: key.pem, certFile, keyFile };
}

/**
 * A client certificate from a CA given as PEM (the real hub's, in the real-Koji suite), its files in `dir`: for
 * what a real server does with a certificate these fakes cannot judge for it, an expired one say.
 */
export function clientCertFrom(ca: Pem, cn: string, dir: string, validity: Validity = {}): ClientCert {
  const issuer = {
    cert: forge.pki.certificateFromPem(ca.cert),
    key: forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey,
  };
  return issueClient(dir, cn, issuer, "", validity);
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "fake-pki-"));
  const { cert: caCert, key: caForgeKey, pem: caKeyPem } = newCa("fakes' test CA");
  const caKey = { forgeKey: caForgeKey, pem: caKeyPem };
  let otherCa: ReturnType<typeof newCa> | undefined;
  const strangerCa = () => {
    otherCa ??= newCa("some other CA");
    return otherCa;
  };
  const ca = { cert: forge.pki.certificateToPem(caCert), key: caKey.pem };
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, ca.cert);
  const issueServer = (options: ServerCertOptions = {}): Pem => {
    const issuer = options.otherCa ? strangerCa() : { cert: caCert, key: caKey.forgeKey };
    const hosts = options.hosts ?? ["localhost", "127.0.0.1"];
    const key = newKey();
    const altNames = hosts.map((host) => (isIP(host) ? { type: 7, ip: host } : { type: 2, value: host }));
    const cert = sign(
      hosts[0] ?? "localhost",
      key.forgePublic,
      issuer,
      [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        { name: "subjectAltName", altNames },
      ],
      options,
    );
    return { cert: forge.pki.certificateToPem(cert), key: key.pem };
  };
  const server = issueServer();
  return {
    dir,
    ca,
    caFile,
    server,
    serverCert: issueServer,
    client: (cn, validity) => issueClient(dir, cn, { cert: caCert, key: caKey.forgeKey }, "", validity),
    stranger: (cn) => issueClient(dir, cn, strangerCa(), "stranger-"),
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
