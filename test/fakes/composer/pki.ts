import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

/** PEM texts for a TLS endpoint or a client identity. */
export interface TestIdentity {
  cert: string;
  key: string;
}

/** A throw-away PKI: one CA, a server certificate for loopback, a client certificate it trusts, and one it does not. */
export interface TestPki {
  ca: string;
  server: TestIdentity;
  client: TestIdentity;
  /** Signed by a different CA: the fake must refuse it. */
  strangerClient: TestIdentity;
}

interface Issuer {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

// Node's native RSA generation: node-forge's pure-JS one takes seconds per key on a small machine.
function rsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

let serial = 1;

function certificate(
  commonName: string,
  publicKey: forge.pki.rsa.PublicKey,
  issuer: Issuer | "self",
  signingKey: forge.pki.rsa.PrivateKey,
  extensions: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = (serial++).toString(16).padStart(2, "0");
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(issuer === "self" ? subject : issuer.cert.subject.attributes);
  cert.setExtensions(extensions);
  cert.sign(signingKey, forge.md.sha256.create());
  return cert;
}

function createCa(name: string): Issuer {
  const keys = rsaKeyPair();
  const cert = certificate(name, keys.publicKey, "self", keys.privateKey, [
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
  ]);
  return { cert, key: keys.privateKey };
}

function issue(ca: Issuer, commonName: string, usage: "server" | "client"): TestIdentity {
  const keys = rsaKeyPair();
  const extensions: object[] = [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: usage === "server", clientAuth: usage === "client" },
  ];
  if (usage === "server") {
    extensions.push({
      name: "subjectAltName",
      altNames: [
        { type: 2, value: "localhost" },
        { type: 7, ip: "127.0.0.1" },
      ],
    });
  }
  const cert = certificate(commonName, keys.publicKey, ca, ca.key, extensions);
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function createTestPki(): TestPki {
  const ca = createCa("fake composer test CA");
  const stranger = createCa("some other CA");
  return {
    ca: forge.pki.certificateToPem(ca.cert),
    server: issue(ca, "localhost", "server"),
    client: issue(ca, "osbuild-koji-importer", "client"),
    strangerClient: issue(stranger, "osbuild-koji-importer", "client"),
  };
}
