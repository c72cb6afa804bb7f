import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import type { KojiHubConfig } from "../../src/config/schema.js";
import { kerberosLoader } from "../../src/koji/auth.js";
import { kerberosCredentialProblems } from "../../src/koji/credentials.js";
import { keytabPrincipals } from "../../src/koji/keytab.js";
import { checkStartup } from "../../src/service/startup-checks.js";
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

describe("start-up check of the gssapi hubs' credentials", () => {
  it("accepts a keytab holding the principal, with or without its realm", async () => {
    const hubs = [
      gssapi("osbuild-koji-importer/worker.example.org@EXAMPLE.ORG", keytab),
      gssapi("osbuild", keytab),
      gssapi("osbuild@EXAMPLE.ORG", `FILE:${keytab}`),
    ];
    expect(await kerberosCredentialProblems(hubs, { loadKerberos: addonPresent })).toEqual([]);
  });

  it("refuses a gssapi hub when the kerberos addon is missing, naming the hub", async () => {
    const problems = await kerberosCredentialProblems([gssapi("osbuild@EXAMPLE.ORG", keytab)], {
      loadKerberos: addonMissing,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^KOJI_HUBS\[0\]\.auth: hub https:\/\/koji\.example\.org\/kojihub uses gssapi: .*'kerberos'/,
    );
  });

  it("refuses a keytab that is not a keytab or lacks the principal, naming hub and file", async () => {
    const notKeytab = join(dir, "cert.pem");
    writeFileSync(notKeytab, "-----BEGIN CERTIFICATE-----\n");
    const hubs = [
      gssapi("osbuild@EXAMPLE.ORG", notKeytab),
      { ...gssapi("kojiadmin@EXAMPLE.ORG", keytab), url: "https://brew.example.com/brewhub" },
      gssapi("osbuild@OTHER.ORG", keytab),
      { url: "https://koji.example.org/kojihub", auth: "ssl", cert_file: "/c", key_file: "/k" } as const,
    ];
    expect(await kerberosCredentialProblems(hubs, { loadKerberos: addonPresent })).toEqual([
      `KOJI_HUBS[0].keytab_file: ${notKeytab} (hub https://koji.example.org/kojihub) is not a keytab: ` +
        "not a keytab (no 0x05 header byte)",
      `KOJI_HUBS[1].keytab_file: ${keytab} (hub https://brew.example.com/brewhub) holds no key for ` +
        "kojiadmin@EXAMPLE.ORG (it holds: osbuild-koji-importer/worker.example.org@EXAMPLE.ORG, osbuild@EXAMPLE.ORG)",
      `KOJI_HUBS[2].keytab_file: ${keytab} (hub https://koji.example.org/kojihub) holds no key for ` +
        "osbuild@OTHER.ORG (it holds: osbuild-koji-importer/worker.example.org@EXAMPLE.ORG, osbuild@EXAMPLE.ORG)",
    ]);
  });
});

describe("start-up", () => {
  it("refuses a missing, unreadable or wrong keytab before anything connects, every problem at once", async () => {
    const missing = join(dir, "osbuild.keytab");
    const aDirectory = join(dir, "keytab.d");
    mkdirSync(aDirectory, { recursive: true });
    const config = loadConfig({
      KOJI_HUBS: JSON.stringify([
        gssapi("osbuild@EXAMPLE.ORG", missing),
        gssapi("osbuild@EXAMPLE.ORG", aDirectory),
        gssapi("kojiadmin@EXAMPLE.ORG", keytab),
      ]),
    });
    const error = await caught(checkStartup(config, ["worker"]), ConfigError);
    expect(error.problems).toEqual(
      expect.arrayContaining([
        `KOJI_HUBS[0].keytab_file: cannot read ${missing} (ENOENT)`,
        `KOJI_HUBS[1].keytab_file: ${aDirectory} is not a file`,
        expect.stringMatching(/^KOJI_HUBS\[2\]\.keytab_file: .* holds no key for kojiadmin@EXAMPLE\.ORG/),
      ]),
    );
  });
});
