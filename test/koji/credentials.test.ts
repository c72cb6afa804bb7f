import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { KojiHubConfig } from "../../src/config/schema.js";
import { kerberosLoader } from "../../src/koji/auth.js";
import { checkHubCredentials, hubCredentialProblems } from "../../src/koji/credentials.js";
import { keytabPrincipals } from "../../src/koji/keytab.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics.js";
import { startWorker } from "../../src/service/worker.js";
import { caught } from "../support/caught.js";

const keytab = fileURLToPath(new URL("../fixtures/keytabs/two-principals.keytab", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "credentials-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The addon as on a machine that has it, and as on one that does not, whatever this machine has. */
const addonPresent = kerberosLoader(async () => ({
  initializeClient: async () => ({}),
  GSS_MECH_OID_SPNEGO: 1,
}));
const addonMissing = kerberosLoader(async () => {
  throw new Error("Cannot find package 'kerberos'");
});

const gssapi = (principal: string, keytabFile: string): KojiHubConfig => ({
  url: "https://koji.example.org/kojihub",
  auth: "gssapi",
  principal,
  keytab_file: keytabFile,
});

describe("keytab reader", () => {
  it("lists the principals of a keytab written by ktutil, once each", async () => {
    const { readFileSync } = await import("node:fs");
    expect(keytabPrincipals(readFileSync(keytab))).toEqual([
      "osbuild-koji-importer/worker.example.org@EXAMPLE.ORG",
      "osbuild@EXAMPLE.ORG",
    ]);
  });

  it("skips holes left by removed entries and refuses what is not a keytab", () => {
    const entry = Buffer.concat([
      Buffer.from([0, 1]), // one component
      Buffer.from([0, 3]),
      Buffer.from("EX."),
      Buffer.from([0, 2]),
      Buffer.from("me"),
      Buffer.alloc(4 + 4 + 1 + 2 + 2), // name type, timestamp, vno8, key type, empty key
    ]);
    const size = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    const withHole = Buffer.concat([
      Buffer.from([5, 2]),
      size(-6),
      Buffer.alloc(6),
      size(entry.length),
      entry,
    ]);
    expect(keytabPrincipals(withHole)).toEqual(["me@EX."]);
    expect(() => keytabPrincipals(Buffer.from("-----BEGIN CERTIFICATE-----"))).toThrow(/not a keytab/);
    expect(() => keytabPrincipals(Buffer.concat([Buffer.from([5, 2]), size(400), entry]))).toThrow(
      /past the end/,
    );
  });
});

describe("start-up check of the hubs' credentials", () => {
  it("accepts a keytab holding the principal, with or without its realm", async () => {
    const hubs = [
      gssapi("osbuild-koji-importer/worker.example.org@EXAMPLE.ORG", keytab),
      gssapi("osbuild", keytab),
      gssapi("osbuild@EXAMPLE.ORG", `FILE:${keytab}`),
    ];
    expect(await hubCredentialProblems(hubs, { loadKerberos: addonPresent })).toEqual([]);
  });

  it("refuses a gssapi hub when the kerberos addon is missing, naming the hub", async () => {
    const problems = await hubCredentialProblems([gssapi("osbuild@EXAMPLE.ORG", keytab)], {
      loadKerberos: addonMissing,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^KOJI_HUBS\[0\] https:\/\/koji\.example\.org\/kojihub: auth gssapi: .*'kerberos'/,
    );
  });

  it("refuses a keytab that is missing, unreadable, not a keytab or lacks the principal, naming hub and file", async () => {
    const notKeytab = join(dir, "cert.pem");
    writeFileSync(notKeytab, "-----BEGIN CERTIFICATE-----\n");
    const aDirectory = join(dir, "keytab.d");
    mkdirSync(aDirectory);
    const hubs = [
      gssapi("osbuild@EXAMPLE.ORG", join(dir, "missing.keytab")),
      gssapi("osbuild@EXAMPLE.ORG", aDirectory),
      gssapi("osbuild@EXAMPLE.ORG", notKeytab),
      { ...gssapi("kojiadmin@EXAMPLE.ORG", keytab), url: "https://brew.example.com/brewhub" },
      gssapi("osbuild@OTHER.ORG", keytab),
    ];
    const error = await caught(checkHubCredentials(hubs, { loadKerberos: addonPresent }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.retryable).toBe(false);
    expect(error.details.problems).toEqual([
      `KOJI_HUBS[0] https://koji.example.org/kojihub: keytab_file ${join(dir, "missing.keytab")} does not exist`,
      `KOJI_HUBS[1] https://koji.example.org/kojihub: keytab_file ${aDirectory} is a directory, not a file`,
      `KOJI_HUBS[2] https://koji.example.org/kojihub: keytab_file ${notKeytab} is not a keytab: not a keytab (no 0x05 header byte)`,
      `KOJI_HUBS[3] https://brew.example.com/brewhub: keytab_file ${keytab} holds no key for kojiadmin@EXAMPLE.ORG ` +
        "(it holds: osbuild-koji-importer/worker.example.org@EXAMPLE.ORG, osbuild@EXAMPLE.ORG)",
      `KOJI_HUBS[4] https://koji.example.org/kojihub: keytab_file ${keytab} holds no key for osbuild@OTHER.ORG ` +
        "(it holds: osbuild-koji-importer/worker.example.org@EXAMPLE.ORG, osbuild@EXAMPLE.ORG)",
    ]);
  });

  it("checks an ssl hub's certificate, key and CA files", async () => {
    const problems = await hubCredentialProblems([
      {
        url: "https://koji.example.org/kojihub",
        auth: "ssl",
        cert_file: keytab,
        key_file: join(dir, "no.key"),
        ca_file: join(dir, "no-ca.crt"),
      },
    ]);
    expect(problems).toEqual([
      `KOJI_HUBS[0] https://koji.example.org/kojihub: key_file ${join(dir, "no.key")} does not exist`,
      `KOJI_HUBS[0] https://koji.example.org/kojihub: ca_file ${join(dir, "no-ca.crt")} does not exist`,
    ]);
  });
});

describe("start-up", () => {
  it("refuses a hub whose keytab is missing before it connects to anything, naming hub and file", async () => {
    const missing = join(dir, "osbuild.keytab");
    const config = loadConfig({
      KOJI_HUBS: JSON.stringify([gssapi("osbuild@EXAMPLE.ORG", missing)]),
      // Nothing listens there: reaching them would fail differently, and later.
      DATABASE_URL: "postgres://nobody@127.0.0.1:9/none",
      AMQP_URL: "amqp://nobody:none@127.0.0.1:9",
    });
    const error = await caught(startWorker(config, createLogger("silent"), createMetrics()));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(
      `KOJI_HUBS[0] https://koji.example.org/kojihub: keytab_file ${missing} does not exist`,
    );
  });
});
