import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KojiHubs } from "../../src/koji/hubs.js";
import { startFakeKojiHub } from "../fakes/koji/server.js";
import { createTestPki, type ServerCertOptions, type TestPki } from "../fakes/pki.js";
import {
  alertLines,
  mismatches,
  OUT_OF_DATES,
  refusedBeforeAnyRequest,
} from "../support/certificate-cases.js";
import { collectingLogger } from "../support/log-lines.js";

/**
 * The importer's certificate rules towards a Koji hub, each against a real TLS server on loopback presenting the
 * certificate in question: outside its validity period → retryable with an alert line (an operator renews it while
 * the events wait in the retry queues); a name or CA mismatch → permanent. No request ever reaches the hub.
 */

let pki: TestPki;

beforeAll(() => {
  pki = createTestPki();
});

afterAll(() => {
  pki.cleanup();
});

/** The importer's hubs as the service builds them, logging in to a fake hub that presents `serverCert`. */
async function loginAgainst(serverCert: ServerCertOptions) {
  const hub = await startFakeKojiHub({ pki, serverCert: pki.serverCert(serverCert) });
  hub.grant("osbuild");
  const user = pki.client("osbuild");
  const { logger, lines } = collectingLogger();
  const hubs = new KojiHubs({
    hubs: [
      { url: hub.url, auth: "ssl", cert_file: user.certFile, key_file: user.keyFile, ca_file: pki.caFile },
    ],
    logger,
  });
  try {
    const client = await hubs.client(hub.url);
    const outcome = await client.getLoggedInUser().then(
      (me) => ({ me, error: undefined }),
      (error: unknown) => ({ me: undefined, error }),
    );
    return { ...outcome, lines, hubUrl: hub.url, requests: hub.requests.length };
  } finally {
    await hubs.close();
    await hub.close();
  }
}

async function refusedBy(serverCert: ServerCertOptions) {
  const outcome = await loginAgainst(serverCert);
  return { error: refusedBeforeAnyRequest(outcome), lines: outcome.lines, hubUrl: outcome.hubUrl };
}

it("logs in to a hub whose certificate is valid, from the CA, for its address (the control case)", async () => {
  const { me, error, lines } = await loginAgainst({});
  expect(error).toBeUndefined();
  expect(me?.name).toBe("osbuild");
  expect(alertLines(lines)).toHaveLength(0);
});

describe("a hub certificate outside its validity period: retryable, with an alert line", () => {
  it.each(OUT_OF_DATES)("%s", async (_name, validity, causeCode) => {
    const { error, lines, hubUrl } = await refusedBy(validity);
    expect({ code: error.code, retryable: error.retryable }).toEqual({
      code: "KOJI_TLS_CERT_VALIDITY",
      retryable: true,
    });
    const origin = new URL(hubUrl).origin;
    expect(error.details).toMatchObject({
      cause_code: causeCode,
      sent: false,
      alert: "tls_certificate_validity",
      url: origin,
    });
    // One alert line, at error level, naming the hub; the login was not resent in-process (an operator fixes it).
    const alerts = alertLines(lines);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      level: 50,
      alert: "tls_certificate_validity",
      url: origin,
      hub: hubUrl,
      code: "KOJI_TLS_CERT_VALIDITY",
      cause_code: causeCode,
    });
    expect(lines.some((line) => String(line.msg).includes("trying again"))).toBe(false);
  });
});

describe("a hub certificate for another name or from another CA: permanent, no alert", () => {
  it.each(mismatches("koji.example.org"))("%s", async (_name, options, causeCode) => {
    const { error, lines } = await refusedBy(options);
    expect({ code: error.code, retryable: error.retryable }).toEqual({ code: "KOJI_TLS", retryable: false });
    expect(error.details).toMatchObject({ cause_code: causeCode, sent: false });
    expect(error.details.alert).toBeUndefined();
    expect(alertLines(lines)).toHaveLength(0);
  });
});
