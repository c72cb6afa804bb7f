import { buffer } from "node:stream/consumers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import { type FakeComposer, startFakeComposer } from "../fakes/composer/server.js";
import type { DownloadingComposerClient as ComposerClient } from "../fakes/composer-worker/composer-client.js";
import { createTestPki, type TestPki } from "../fakes/pki.js";
import { DONE, expectFailure, fixtureComposes, testClient } from "./support.js";

const CLIENT_ID = "osbuild-koji-importer";
const CLIENT_SECRET = "s3cr3t-not-for-logs";

/** Servers and clients made by a test, closed after it. */
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function oauthFake(tokenLifetimeSeconds = 300): Promise<FakeComposer> {
  const fake = await startFakeComposer({
    composes: fixtureComposes(),
    auth: { mode: "oauth", clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenLifetimeSeconds },
  });
  cleanup.push(() => fake.close());
  return fake;
}

function oauthClient(fake: FakeComposer, secret = CLIENT_SECRET, refreshMarginMs?: number): ComposerClient {
  const client = testClient(fake.url, {
    auth: {
      mode: "oauth",
      tokenUrl: fake.tokenUrl,
      clientId: CLIENT_ID,
      clientSecret: secret,
      ...(refreshMarginMs === undefined ? {} : { refreshMarginMs }),
    },
  });
  cleanup.push(() => client.close());
  return client;
}

describe("no auth", () => {
  it("works against a composer that asks for nothing", async () => {
    const fake = await startFakeComposer({ composes: fixtureComposes() });
    cleanup.push(() => fake.close());
    const client = testClient(fake.url);
    cleanup.push(() => client.close());
    await expect(client.getComposeStatus(DONE)).resolves.toMatchObject({ status: "success" });
  });

  it("fails permanent with COMPOSER_AUTH against a composer that wants a token", async () => {
    const fake = await oauthFake();
    const client = testClient(fake.url);
    cleanup.push(() => client.close());
    await expectFailure(client.getComposeStatus(DONE), {
      code: "COMPOSER_AUTH",
      retryable: false,
      message:
        /HTTP 401: composer requires credentials \(IMAGE-BUILDER-COMPOSER-1001: Auth token is invalid\)/,
    });
    expect(fake.counters.unauthorized).toBe(1);
  });
});

describe("OAuth2 client credentials", () => {
  it("asks for one token and uses it for every call, the download included", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake);
    await client.getComposeStatus(DONE);
    await client.getComposeLogs(DONE);
    await client.getComposeManifests(DONE);
    await client.getComposeSBOMs(DONE);
    await buffer((await client.downloadCompose(DONE)).body);
    expect(fake.counters).toMatchObject({ tokenRequests: 1, tokensIssued: 1, unauthorized: 0, requests: 5 });
  });

  it("shares one token request among concurrent calls", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake);
    await Promise.all(Array.from({ length: 8 }, () => client.getComposeLogs(DONE)));
    expect(fake.counters.tokenRequests).toBe(1);
  });

  it("renews the token before it expires, so no request meets a 401", async () => {
    const fake = await oauthFake(1);
    const client = oauthClient(fake);
    await client.getComposeStatus(DONE);
    // Past half the 1 s lifetime (the renewal point) but before the server would refuse the token.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await client.getComposeStatus(DONE);
    expect(fake.counters).toMatchObject({ tokensIssued: 2, unauthorized: 0 });
  });

  it("keeps a token that is not yet due (control for the renewal test)", async () => {
    const fake = await oauthFake(1);
    const client = oauthClient(fake, CLIENT_SECRET, 0);
    await client.getComposeStatus(DONE);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await client.getComposeStatus(DONE);
    expect(fake.counters).toMatchObject({ tokensIssued: 1, unauthorized: 0 });
  });

  it("on a 401 renews the token and repeats the request once", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake);
    await client.getComposeStatus(DONE);
    fake.injectFault(DONE, { kind: "unauthorized", endpoint: "logs" });
    await expect(client.getComposeLogs(DONE)).resolves.toMatchObject({ kind: "ComposeLogs" });
    expect(fake.counters).toMatchObject({ tokensIssued: 2, unauthorized: 1 });
    expect(fake.counters.calls(DONE, "logs")).toBe(2);
  });

  it("recovers when composer forgot every token (SSO key rotation)", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake);
    await client.getComposeStatus(DONE);
    fake.revokeTokens();
    await expect(client.getComposeStatus(DONE)).resolves.toMatchObject({ status: "success" });
    expect(fake.counters).toMatchObject({ tokensIssued: 2, unauthorized: 1 });
  });

  it("fails permanent with COMPOSER_AUTH when even a fresh token is refused, after exactly one renewal", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake);
    fake.injectFault(DONE, { kind: "unauthorized", times: 10 });
    await expectFailure(client.getComposeStatus(DONE), {
      code: "COMPOSER_AUTH",
      retryable: false,
      message: /HTTP 401: a freshly issued token was refused/,
    });
    expect(fake.counters).toMatchObject({ tokensIssued: 2, unauthorized: 2 });
  });

  it("fails permanent with COMPOSER_AUTH when the SSO refuses the credentials, never echoing the secret", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake, "wrong-secret");
    const error = await expectFailure(client.getComposeStatus(DONE), {
      code: "COMPOSER_AUTH",
      retryable: false,
      message: /token request refused: HTTP 401 \(invalid_client: Invalid client credentials\)/,
    });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain("wrong-secret");
    expect(fake.counters.requests).toBe(0);
  });

  it("retries a token endpoint that answers 503 or drops the connection", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake);
    fake.injectTokenFault({ kind: "status", status: 503 });
    fake.injectTokenFault({ kind: "reset" });
    await expect(client.getComposeStatus(DONE)).resolves.toMatchObject({ status: "success" });
    expect(fake.counters).toMatchObject({ tokenRequests: 3, tokensIssued: 1 });
  });

  it("fails permanent with COMPOSER_INVALID_RESPONSE on a token response without access_token", async () => {
    const fake = await oauthFake();
    const client = oauthClient(fake);
    fake.injectTokenFault({ kind: "schema-violation", body: { token_type: "Bearer", expires_in: 300 } });
    await expectFailure(client.getComposeStatus(DONE), {
      code: "COMPOSER_INVALID_RESPONSE",
      retryable: false,
      message: /token endpoint .*: invalid access_token: /,
    });
  });
});

describe("mutual TLS", () => {
  const CLIENT_CN = "osbuild-koji-importer";
  let pki: TestPki;
  let fake: FakeComposer;

  beforeAll(async () => {
    pki = createTestPki();
    fake = await startFakeComposer({ composes: fixtureComposes(), auth: { mode: "mtls" }, pki });
  });
  afterAll(async () => {
    await fake.close();
    pki.cleanup();
  });

  /** `ca: null` leaves the system trust store, which does not know the test CA. */
  function mtlsClient(identity: { cert: string; key: string } | undefined, ca: string | null = pki.ca.cert) {
    const client = testClient(fake.url, {
      auth: identity ? { mode: "mtls", ...identity } : { mode: "none" },
      ...(ca === null ? {} : { ca }),
    });
    cleanup.push(() => client.close());
    return client;
  }

  it("serves every call to a client certificate from the trusted CA", async () => {
    const client = mtlsClient(pki.client(CLIENT_CN));
    await client.getComposeStatus(DONE);
    await client.getComposeLogs(DONE);
    await client.getComposeManifests(DONE);
    await client.getComposeSBOMs(DONE);
    expect((await buffer((await client.downloadCompose(DONE)).body)).length).toBeGreaterThan(0);
  });

  /**
   * With TLS 1.3 the client finishes its side of the handshake before the server checks the certificate; Node's
   * server then drops the connection without an alert, so the client sees only "other side closed", a retryable
   * COMPOSER_UNREACHABLE. A Go server sends a certificate alert (unknown CA, bad certificate), which reads as the
   * permanent COMPOSER_TLS: the configuration must change. Either way no request is served.
   */
  async function expectRefused(client: ComposerClient) {
    const before = { rejected: fake.counters.tlsRejected, requests: fake.counters.requests };
    let caught: unknown;
    await client.getComposeStatus(DONE).catch((error: unknown) => {
      caught = error;
    });
    expect(caught).toBeInstanceOf(ImporterError);
    const error = caught as ImporterError;
    expect([
      { code: "COMPOSER_UNREACHABLE", retryable: true },
      { code: "COMPOSER_TLS", retryable: false },
    ]).toContainEqual({ code: error.code, retryable: error.retryable });
    expect(fake.counters.tlsRejected - before.rejected).toBeGreaterThanOrEqual(1);
    expect(fake.counters.requests - before.requests).toBe(0);
  }

  it("is refused without a client certificate", async () => {
    await expectRefused(mtlsClient(undefined));
  });

  it("is refused with a certificate from another CA", async () => {
    await expectRefused(mtlsClient(pki.stranger(CLIENT_CN)));
  });

  it("refuses a server whose CA it was not given", async () => {
    const error = await expectFailure(mtlsClient(pki.client(CLIENT_CN), null).getComposeStatus(DONE), {
      code: "COMPOSER_TLS",
      retryable: false,
      message: /TLS failure/,
    });
    expect(error.details.cause_code).toMatch(/CERT|SIGNATURE/);
    // A CA mismatch needs a configuration change: permanent, and not retried in-process.
    expect(error.details.attempts).toBeUndefined();
  });
});
