import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComposerClient } from "../../src/composer/client.js";
import { ImporterError } from "../../src/errors.js";
import { startFakeComposer } from "../fakes/composer/server.js";
import { createTestPki, type ServerCertOptions, type TestPki } from "../fakes/pki.js";
import { collectingLogger } from "../support/log-lines.js";
import { DONE, FAST_RETRY, fixtureComposes } from "./support.js";

/**
 * The importer's certificate rules towards composer, the same as towards Koji, each against a real TLS server on
 * loopback presenting the certificate in question: outside its validity period → retryable with an alert line (an
 * operator renews it while the events wait in the retry queues), not retried in-process; a name or CA mismatch →
 * permanent. No request ever reaches composer.
 */

const DAY = 86_400_000;
let pki: TestPki;

beforeAll(() => {
  pki = createTestPki();
});

afterAll(() => {
  pki.cleanup();
});

/** The importer's composer client, trusting the test CA, asking a fake composer that presents `serverCert`. */
async function statusFrom(serverCert: ServerCertOptions) {
  const fake = await startFakeComposer({
    composes: fixtureComposes(),
    tls: true,
    pki,
    serverCert: pki.serverCert(serverCert),
  });
  const { logger, lines } = collectingLogger();
  const client = new ComposerClient({
    url: fake.url,
    auth: { mode: "none" },
    ca: pki.ca.cert,
    retry: FAST_RETRY,
    random: () => 0.5,
    logger,
  });
  try {
    const outcome = await client.getComposeStatus(DONE).then(
      (status) => ({ status, error: undefined }),
      (error: unknown) => ({ status: undefined, error }),
    );
    return { ...outcome, lines, url: fake.url, requests: fake.counters.requests };
  } finally {
    await client.close();
    await fake.close();
  }
}

async function refusedBy(serverCert: ServerCertOptions) {
  const { error, lines, url, requests } = await statusFrom(serverCert);
  expect(error).toBeInstanceOf(ImporterError);
  expect(requests).toBe(0);
  return { error: error as ImporterError, lines, url };
}

function alertLines(lines: Array<Record<string, unknown>>) {
  return lines.filter((line) => line.alert !== undefined);
}

it("asks composer whose certificate is valid, from the CA, for its address (the control case)", async () => {
  const { status, error, lines } = await statusFrom({});
  expect(error).toBeUndefined();
  expect(status?.status).toBe("success");
  expect(alertLines(lines)).toHaveLength(0);
});

describe("composer's certificate outside its validity period: retryable, with an alert line", () => {
  const expired = { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) };
  const notYetValid = { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) };
  it.each([
    ["expired", expired, "CERT_HAS_EXPIRED"],
    ["not yet valid", notYetValid, "CERT_NOT_YET_VALID"],
  ])("%s", async (_name, validity, causeCode) => {
    const { error, lines, url } = await refusedBy(validity);
    expect({ code: error.code, retryable: error.retryable }).toEqual({
      code: "COMPOSER_TLS_CERT_VALIDITY",
      retryable: true,
    });
    expect(error.details).toMatchObject({ cause_code: causeCode, alert: "tls_certificate_validity", url });
    // Not retried in-process: the same handshake fails until an operator renews the certificate.
    expect(error.details.attempts).toBeUndefined();
    expect(lines.some((line) => line.msg === "composer request failed; retrying")).toBe(false);
    const alerts = alertLines(lines);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      level: 50,
      alert: "tls_certificate_validity",
      url,
      code: "COMPOSER_TLS_CERT_VALIDITY",
      cause_code: causeCode,
      compose_id: DONE,
    });
  });
});

describe("composer's certificate for another name or from another CA: permanent, no alert", () => {
  it.each([
    ["for another host name", { hosts: ["composer.example.org"] }, "ERR_TLS_CERT_ALTNAME_INVALID"],
    ["from a CA the importer was not given", { otherCa: true }, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  ])("%s", async (_name, options, causeCode) => {
    const { error, lines } = await refusedBy(options);
    expect({ code: error.code, retryable: error.retryable }).toEqual({
      code: "COMPOSER_TLS",
      retryable: false,
    });
    expect(error.details).toMatchObject({ cause_code: causeCode });
    expect(error.details.alert).toBeUndefined();
    expect(error.details.attempts).toBeUndefined();
    expect(alertLines(lines)).toHaveLength(0);
  });
});

describe("the importer's own client certificate outside its validity period: retryable, with an alert line", () => {
  /**
   * composer checks the client certificate after the client's side of the handshake is done; Node's server then
   * drops the connection without an alert (Apache sends one, which arrives the same way over TLS 1.3). The client
   * knows its own certificate's validity period, and says which certificate it is.
   */
  it.each([
    [
      "expired",
      { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) },
      "CERT_HAS_EXPIRED",
    ],
    [
      "not yet valid",
      { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) },
      "CERT_NOT_YET_VALID",
    ],
  ])("%s", async (_name, validity, causeCode) => {
    const fake = await startFakeComposer({ composes: fixtureComposes(), auth: { mode: "mtls" }, pki });
    const { logger, lines } = collectingLogger();
    const identity = pki.client("osbuild-koji-importer", validity);
    const client = new ComposerClient({
      url: fake.url,
      auth: { mode: "mtls", cert: identity.cert, key: identity.key },
      ca: pki.ca.cert,
      retry: FAST_RETRY,
      random: () => 0.5,
      logger,
    });
    try {
      const error = await client.getComposeStatus(DONE).then(
        () => undefined,
        (e: unknown) => e as ImporterError,
      );
      expect({ code: error?.code, retryable: error?.retryable }).toEqual({
        code: "COMPOSER_TLS_CERT_VALIDITY",
        retryable: true,
      });
      expect(error?.message).toMatch(/client certificate \(CN=osbuild-koji-importer\)/);
      expect(error?.details).toMatchObject({
        cause_code: causeCode,
        alert: "tls_certificate_validity",
        url: fake.url,
      });
      expect(fake.counters.requests).toBe(0);
      expect(alertLines(lines)).toHaveLength(1);
    } finally {
      await client.close();
      await fake.close();
    }
  });
});
