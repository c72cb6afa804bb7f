import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComposerClient } from "../../src/composer/client.js";
import type { ImporterError } from "../../src/errors.js";
import { startFakeComposer } from "../fakes/composer/server.js";
import { createTestPki, type ServerCertOptions, type TestPki } from "../fakes/pki.js";
import {
  alertLines,
  mismatches,
  OUT_OF_DATES,
  refusedBeforeAnyRequest,
} from "../support/certificate-cases.js";
import { collectingLogger } from "../support/log-lines.js";
import { DONE, FAST_RETRY, fixtureComposes } from "./support.js";

/**
 * The importer's certificate rules towards composer, the same as towards Koji, each against a real TLS server on
 * loopback presenting the certificate in question: outside its validity period → retryable with an alert line (an
 * operator renews it while the events wait in the retry queues), not retried in-process; a name or CA mismatch →
 * permanent. No request ever reaches composer.
 */

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
  const outcome = await statusFrom(serverCert);
  return { error: refusedBeforeAnyRequest(outcome), lines: outcome.lines, url: outcome.url };
}

it("asks composer whose certificate is valid, from the CA, for its address (the control case)", async () => {
  const { status, error, lines } = await statusFrom({});
  expect(error).toBeUndefined();
  expect(status?.status).toBe("success");
  expect(alertLines(lines)).toHaveLength(0);
});

describe("composer's certificate outside its validity period: retryable, with an alert line", () => {
  it.each(OUT_OF_DATES)("%s", async (_name, validity, causeCode) => {
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
  it.each(mismatches("composer.example.org"))("%s", async (_name, options, causeCode) => {
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
  it.each(OUT_OF_DATES)("%s", async (_name, validity, causeCode) => {
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
