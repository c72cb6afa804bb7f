import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ImporterError } from "../../src/errors.js";
import { KojiHubs } from "../../src/koji/hubs.js";
import { clientCertFrom } from "../fakes/pki.js";
import { OUT_OF_DATES } from "../support/certificate-cases.js";
import { collectingLogger } from "../support/log-lines.js";
import { describeRealHub } from "./realhub.js";

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

await describeRealHub("the real Koji hub", (hub) => {
  it("answers the importer's session as osbuild, with Koji's version", async () => {
    const hubs = new KojiHubs({ hubs: [hub().kojiHub()] });
    try {
      const client = await hubs.client(hub().url);
      expect(await client.getLoggedInUser()).toMatchObject({ name: "osbuild" });
    } finally {
      await hubs.close();
    }
  });

  /**
   * Apache refuses a client certificate outside its validity period with a TLS alert, which over TLS 1.3 (and on
   * the TLS 1.2 login of the documented layout) reaches the client as a closed connection. The importer knows its
   * own certificate's dates, so the failure reads as KOJI_TLS_CERT_VALIDITY with the alert line, not as a reset.
   * The hub's CA key makes the certificate; a machine where it is not readable skips this.
   */
  it.for(OUT_OF_DATES)(
    "refuses the importer's %s client certificate: retryable, with an alert line, on both layouts",
    async ([, validity, causeCode], { skip }) => {
      const pki = join(hub().state, "pki");
      if (!readable(join(pki, "ca.key"))) skip(`${join(pki, "ca.key")} is not readable`);
      const dir = mkdtempSync(join(tmpdir(), "realhub-cert-"));
      try {
        const ca = {
          cert: readFileSync(join(pki, "ca.crt"), "utf8"),
          key: readFileSync(join(pki, "ca.key"), "utf8"),
        };
        const identity = clientCertFrom(ca, "osbuild", dir, validity);
        for (const layout of ["vhost", "documented"] as const) {
          const config = {
            ...hub().kojiHub(layout),
            cert_file: identity.certFile,
            key_file: identity.keyFile,
          };
          const { logger, lines } = collectingLogger();
          const hubs = new KojiHubs({ hubs: [config], logger });
          try {
            const client = await hubs.client(config.url);
            const error = await client.getLoggedInUser().then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(error, layout).toBeInstanceOf(ImporterError);
            const failure = error as ImporterError;
            expect({ layout, code: failure.code, retryable: failure.retryable }).toEqual({
              layout,
              code: "KOJI_TLS_CERT_VALIDITY",
              retryable: true,
            });
            expect(failure.message).toMatch(/client certificate \(.*CN=osbuild/);
            expect(failure.details).toMatchObject({
              cause_code: causeCode,
              alert: "tls_certificate_validity",
            });
            const alerts = lines.filter((line) => line.alert === "tls_certificate_validity");
            expect(alerts.length, layout).toBeGreaterThanOrEqual(1);
            expect(alerts[0]).toMatchObject({ hub: config.url, url: new URL(config.url).origin, level: 50 });
          } finally {
            await hubs.close();
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
