import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";

/**
 * The fakes' one throwaway PKI (Koji hub and composer alike): a CA with a server certificate for
 * 127.0.0.1/localhost, client certificates whose CN is the user, and client certificates from another CA that a
 * fake must refuse. Written to a temp directory as PEM files too (the transports read files, as in production).
 * Keys come from Node's native generator (node-forge's pure-JS one takes seconds per key); node-forge only signs.
 */

export interface Pem {
  cert: string;
  key: string;
}

export interface ClientCert extends Pem {
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  ca: Pem;
  caFile: string;
  server: Pem;
  client(cn: string): ClientCert;
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
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = String(serial++).padStart(4, "0");
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
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

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "fake-pki-"));
  const { cert: caCert, key: caForgeKey, pem: caKeyPem } = newCa("fakes' test CA");
  const caKey = { forgeKey: caForgeKey, pem: caKeyPem };
  let otherCa: ReturnType<typeof newCa> | undefined;
  const issueClient = (
    cn: string,
    issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey },
    prefix: string,
  ) => {
    const key = newKey();
    const cert = sign(cn, key.forgePublic, issuer, [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", clientAuth: true },
    ]);
    const pem = forge.pki.certificateToPem(cert);
    const certFile = join(dir, `${prefix}${cn}.crt`);
    const keyFile = join(dir, `${prefix}${cn}.key`);
    writeFileSync(certFile, pem);
    writeFileSync(keyFile, key.pem, { mode: 0o600 });
    return { cert: pem, key: key.pem, certFile, keyFile };
  };
  const ca = { cert: forge.pki.certificateToPem(caCert), key: caKey.pem };
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, ca.cert);
  const serverKey = newKey();
  const serverCert = sign("localhost", serverKey.forgePublic, { cert: caCert, key: caKey.forgeKey }, [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 2, value: "localhost" },
        { type: 7, ip: "127.0.0.1" },
      ],
    },
  ]);
  const server = { cert: forge.pki.certificateToPem(serverCert), key: serverKey.pem };
  return {
    dir,
    ca,
    caFile,
    server,
    client: (cn) => issueClient(cn, { cert: caCert, key: caKey.forgeKey }, ""),
    stranger(cn) {
      otherCa ??= newCa("some other CA");
      return issueClient(cn, otherCa, "stranger-");
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
