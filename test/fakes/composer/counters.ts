import type { FakeEndpoint } from "./faults.js";

/** What the fake saw, for tests to assert retries, token renewals and connection reuse happened as claimed. */
export class FakeComposerCounters {
  /** Requests to the Cloud API (not the token endpoint), answered or not. */
  requests = 0;
  tokenRequests = 0;
  tokensIssued = 0;
  /** 401 responses sent, real or injected. */
  unauthorized = 0;
  faultsServed = 0;
  /** Connections accepted (TLS: completed handshakes); keep-alive shows as fewer connections than requests. */
  connections = 0;
  /** TLS handshakes that failed (for mTLS: a client without an acceptable certificate). */
  tlsRejected = 0;
  private readonly perCall = new Map<string, number>();

  count(composeId: string, endpoint: FakeEndpoint): void {
    const key = `${composeId} ${endpoint}`;
    this.perCall.set(key, (this.perCall.get(key) ?? 0) + 1);
  }

  /** Requests that reached a known compose: for one endpoint, or all of them. */
  calls(composeId: string, endpoint?: FakeEndpoint): number {
    if (endpoint !== undefined) return this.perCall.get(`${composeId} ${endpoint}`) ?? 0;
    let total = 0;
    for (const [key, n] of this.perCall) if (key.startsWith(`${composeId} `)) total += n;
    return total;
  }
}
