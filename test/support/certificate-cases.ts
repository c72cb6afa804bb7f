import { expect } from "vitest";
import { ImporterError } from "../../src/errors.js";

/**
 * The certificate rules the importer applies alike towards composer and every Koji hub (README, "TLS
 * certificates"), as test cases: what the certificate is, its validity period or how it is wrong, and the OpenSSL
 * code the refusal carries. One list, so the composer, Koji and real-hub tests check the same rules.
 */
const DAY = 86_400_000;
const daysFromNow = (days: number) => new Date(Date.now() + days * DAY);

/** Outside its dates: retryable, with an alert line (an operator renews it while the events wait). */
export const OUT_OF_DATES = [
  ["expired", { notBefore: daysFromNow(-2), notAfter: daysFromNow(-1) }, "CERT_HAS_EXPIRED"],
  ["not yet valid", { notBefore: daysFromNow(1), notAfter: daysFromNow(2) }, "CERT_NOT_YET_VALID"],
] as const;

/** A server certificate for another name or from another CA: permanent, no alert. */
export function mismatches(otherHost: string) {
  return [
    ["for another host name", { hosts: [otherHost] }, "ERR_TLS_CERT_ALTNAME_INVALID"],
    ["from a CA the importer was not given", { otherCa: true }, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  ] as const;
}

export function alertLines(lines: Array<Record<string, unknown>>) {
  return lines.filter((line) => line.alert !== undefined);
}

/** The classified error of a call the handshake stopped: no request reached the server. */
export function refusedBeforeAnyRequest(outcome: { error: unknown; requests: number }): ImporterError {
  expect(outcome.error).toBeInstanceOf(ImporterError);
  expect(outcome.requests).toBe(0);
  return outcome.error as ImporterError;
}
