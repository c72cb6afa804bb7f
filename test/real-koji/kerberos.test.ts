import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import type { KojiHubConfig } from "../../src/config/schema.js";
import { gssapiAuthenticator, type KerberosModule, loadKerberos } from "../../src/koji/auth.js";
import { KojiHubs } from "../../src/koji/hubs.js";
import { KojiSession } from "../../src/koji/session.js";
import { KojiTransport } from "../../src/koji/transport.js";
import { checkStartup } from "../../src/service/startup-checks.js";
import { uploadFile } from "../fakes/composer-worker/upload.js";
import { UploadClient, UploadingKojiSession } from "../fakes/composer-worker/upload-client.js";
import { caught } from "../support/caught.js";

/**
 * The importer's Kerberos login against a real MIT KDC and the real Koji hub behind mod_auth_gssapi
 * (`up-kerberos.sh` of the realhub tools): https://localhost:REALHUB_PORT+2/kojihub, realm REALHUB.TEST, keytabs
 * in REALHUB_STATE/krb5/keytabs. Skipped, saying why, where that hub, its keytabs or the kerberos addon are absent.
 */

const state = process.env.REALHUB_STATE ?? "/srv/realhub";
const hubUrl = `https://localhost:${Number(process.env.REALHUB_PORT ?? 18443) + 2}/kojihub`;
const realm = process.env.REALHUB_REALM ?? "REALHUB.TEST";
const krb5Config = join(state, "krb5", "krb5.conf");
const keytab = (name: string) => join(state, "krb5", "keytabs", `${name}.keytab`);
const caFile = join(state, "pki", "ca.crt");

async function whyNot(): Promise<string | undefined> {
  for (const file of [krb5Config, caFile, keytab("osbuild"), keytab("osbuild-koji-importer")]) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      return `no readable ${file} (run the realhub tools' up.sh and up-kerberos.sh)`;
    }
  }
  try {
    await loadKerberos();
  } catch (e) {
    return (e as Error).message;
  }
  try {
    // Any answer will do: the GET is refused with 405, but the hub is there.
    await fetch(hubUrl, { signal: AbortSignal.timeout(3000) });
  } catch (e) {
    if (!String((e as Error & { cause?: Error }).cause?.message ?? e).includes("certificate")) {
      return `no Kerberos hub answers at ${hubUrl}`;
    }
  }
  return undefined;
}

const skipReason = await whyNot();
if (skipReason) console.warn(`test/real-koji/kerberos.test.ts skipped: ${skipReason}`);

function hub(principal: string, keytabName: string): Extract<KojiHubConfig, { auth: "gssapi" }> {
  return { url: hubUrl, auth: "gssapi", principal, keytab_file: keytab(keytabName), ca_file: caFile };
}

const dir = mkdtempSync(join(tmpdir(), "real-koji-kerberos-"));
const saved = { KRB5_CONFIG: process.env.KRB5_CONFIG, KRB5CCNAME: process.env.KRB5CCNAME };
const open: KojiHubs[] = [];

beforeAll(() => {
  // As deployed: KRB5_CONFIG names the realm's configuration, and nobody ran kinit.
  process.env.KRB5_CONFIG = krb5Config;
  delete process.env.KRB5CCNAME;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  delete process.env.KRB5CCNAME;
  process.env.KRB5_CONFIG = krb5Config;
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});

function hubs(config: KojiHubConfig): KojiHubs {
  const opened = new KojiHubs({ hubs: [config], timeoutMs: 30_000 });
  open.push(opened);
  return opened;
}

/** A copy of the realm's krb5.conf whose default cache is a FILE holding kojiadmin's ticket, as after a kinit. */
function realmWithForeignTicket(): { config: string; cache: string } {
  const cache = join(dir, `ccache-${randomBytes(4).toString("hex")}`);
  const config = join(dir, "krb5-file-ccache.conf");
  writeFileSync(
    config,
    readFileSync(krb5Config, "utf8").replace(
      /default_ccache_name = .*/,
      `default_ccache_name = FILE:${cache}`,
    ),
  );
  execFileSync("kinit", ["-k", "-t", keytab("kojiadmin"), `kojiadmin@${realm}`], {
    env: { ...process.env, KRB5_CONFIG: config, KRB5CCNAME: `FILE:${cache}` },
  });
  return { config, cache };
}

function cachePrincipal(cache: string, config: string): string {
  const listed = execFileSync("klist", ["-c", `FILE:${cache}`], {
    env: { ...process.env, KRB5_CONFIG: config },
    encoding: "utf8",
  });
  return /Default principal: (\S+)/.exec(listed)?.[1] ?? "";
}

describe.skipIf(skipReason !== undefined)("Kerberos login to the real hub", () => {
  it("logs in from the keytab alone, without kinit or a credential cache", async () => {
    const client = await hubs(hub(`osbuild@${realm}`, "osbuild")).client(hubUrl);
    const me = await client.getLoggedInUser();
    expect(me?.name).toBe("osbuild");
    expect(me?.authtype).toBe(3); // GSSAPI
  });

  it("logs in as a service principal mapped to the CG user", async () => {
    const client = await hubs(
      hub(`osbuild-koji-importer/localhost@${realm}`, "osbuild-koji-importer"),
    ).client(hubUrl);
    expect((await client.getLoggedInUser())?.name).toBe("osbuild");
  });

  it("logs in although the default credential cache holds another principal's ticket, and leaves it alone", async () => {
    const { config, cache } = realmWithForeignTicket();
    process.env.KRB5_CONFIG = config;
    const client = await hubs(hub(`osbuild@${realm}`, "osbuild")).client(hubUrl);
    expect((await client.getLoggedInUser())?.name).toBe("osbuild");
    expect(cachePrincipal(cache, config)).toBe(`kojiadmin@${realm}`);
  });

  it("uses the cache the operator names in KRB5CCNAME, and fails as Kerberos does when it is another's", async () => {
    const { config, cache } = realmWithForeignTicket();
    process.env.KRB5_CONFIG = config;
    process.env.KRB5CCNAME = `FILE:${cache}`;
    const error = await caught(
      hubs(hub(`osbuild@${realm}`, "osbuild"))
        .client(hubUrl)
        .then((c) => c.session.login()),
    );
    expect(error.code).toBe("KOJI_GSSAPI_FAILED");
    expect(error.message).toContain("does not match desired name");
  });

  it("two hubs' logins with different principals and keytabs in one process, 8 at once", async () => {
    const a = await hubs(hub(`osbuild@${realm}`, "osbuild")).client(hubUrl);
    const b = await hubs(hub(`osbuild-koji-importer/localhost@${realm}`, "osbuild-koji-importer")).client(
      hubUrl,
    );
    const users = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).getLoggedInUser().then((u) => u?.name)),
    );
    expect(users).toEqual(Array(8).fill("osbuild"));
    expect(a.session.sessionCount + b.session.sessionCount).toBeGreaterThan(2);
  });

  it("refuses at start a keytab that lacks the principal, is missing, or is not a keytab, naming hub and file", async () => {
    const notKeytab = join(dir, "ca-as-keytab");
    writeFileSync(notKeytab, readFileSync(caFile));
    const config = loadConfig({
      KOJI_HUBS: JSON.stringify([
        hub(`osbuild-koji-importer/localhost@${realm}`, "osbuild"),
        { ...hub(`osbuild@${realm}`, "osbuild"), keytab_file: join(dir, "missing.keytab") },
        { ...hub(`osbuild@${realm}`, "osbuild"), keytab_file: notKeytab },
        hub(`osbuild@${realm}`, "osbuild"),
      ]),
    });
    // What `start` runs before it connects to anything; it exits 78 with these lines.
    const error = await caught(checkStartup(config, ["worker"]), ConfigError);
    expect(error.problems).toEqual([
      `KOJI_HUBS[1].keytab_file: cannot read ${join(dir, "missing.keytab")} (ENOENT)`,
      `KOJI_HUBS[0].keytab_file: ${keytab("osbuild")} (hub ${hubUrl}) holds no key for ` +
        `osbuild-koji-importer/localhost@${realm} (it holds: osbuild@${realm})`,
      `KOJI_HUBS[2].keytab_file: ${notKeytab} (hub ${hubUrl}) is not a keytab: not a keytab (no 0x05 header byte)`,
    ]);
  });

  it("a ticket the hub does not accept: 401 from mod_auth_gssapi is a permanent refusal naming principal and hub", async () => {
    const transport = await KojiTransport.create({ tls: { caFile }, timeoutMs: 30_000 });
    try {
      // A token the hub cannot accept stands for a ticket made with a key its HTTP keytab no longer has.
      const stale: KerberosModule = {
        GSS_MECH_OID_SPNEGO: null,
        initializeClient: async () => ({
          step: async () => Buffer.from("not a Kerberos token").toString("base64"),
        }),
      };
      const session = new KojiSession({
        hubUrl,
        transport,
        authenticator: gssapiAuthenticator({
          principal: `osbuild@${realm}`,
          keytabFile: keytab("osbuild"),
          load: async () => stale,
        }),
      });
      const error = await caught(session.login());
      expect(error.code).toBe("KOJI_GSSAPI_REFUSED");
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`Koji hub ${hubUrl} refused the Kerberos login of osbuild@${realm}`);
    } finally {
      await transport.close();
    }
  });

  it("reserves, and imports a build uploaded by a Kerberos-logged-in composer worker", async () => {
    const importer = await hubs(
      hub(`osbuild-koji-importer/localhost@${realm}`, "osbuild-koji-importer"),
    ).client(hubUrl);
    // composer's worker logs in with its own keytab and uploads, as it does in production.
    const transport = await KojiTransport.create({ tls: { caFile }, timeoutMs: 30_000 });
    const worker = new UploadClient(
      new UploadingKojiSession({
        hubUrl,
        transport,
        authenticator: gssapiAuthenticator({ principal: `osbuild@${realm}`, keytabFile: keytab("osbuild") }),
      }),
    );
    const image = randomBytes(64 * 1024);
    const directory = `koji-osbuild/kerberos-${randomBytes(6).toString("hex")}`;
    let uploaded: Awaited<ReturnType<typeof uploadFile>>;
    try {
      uploaded = await uploadFile(worker, {
        directory,
        filename: "disk.qcow2",
        source: (async function* () {
          yield image;
        })(),
        checksumType: "md5",
      });
    } finally {
      await worker.logout();
      await transport.close();
    }
    const nvr = { name: "real-koji-kerberos", version: "1", release: randomBytes(4).toString("hex") };
    const reserved = await importer.CGInitBuild(nvr);
    const now = Math.floor(Date.now() / 1000);
    const metadata = {
      metadata_version: 0,
      build: {
        ...nvr,
        build_id: reserved.build_id,
        source: "",
        start_time: now - 60,
        end_time: now,
        extra: { typeinfo: { image: {} } },
      },
      buildroots: [
        {
          id: 0,
          host: { os: "fedora-43", arch: "x86_64" },
          content_generator: { name: "osbuild", version: "0" },
          container: { type: "none", arch: "x86_64" },
          tools: [],
          components: [],
        },
      ],
      output: [
        {
          buildroot_id: 0,
          filename: "disk.qcow2",
          filesize: uploaded.size,
          arch: "x86_64",
          checksum_type: "md5",
          checksum: uploaded.checksum,
          type: "image",
          components: [],
          extra: { image: { arch: "x86_64" } },
        },
      ],
    };
    const build = await importer.CGImport(JSON.stringify(metadata), directory, reserved.token);
    expect(build).toMatchObject({ build_id: reserved.build_id, state: 1 });
    const archives = await importer.listArchives({ buildID: reserved.build_id });
    expect(archives.map((a) => [a.filename, a.size])).toEqual([["disk.qcow2", image.length]]);
  });
});
