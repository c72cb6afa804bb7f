import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assembleCgMetadata, withBuildId } from "../../src/core/assemble.js";
import { KojiFault } from "../../src/koji/faults.js";
import { decodeResponse, encodeCall, type XmlRpcValue } from "../../src/koji/xmlrpc/index.js";
import type { CgMetadata } from "../../src/schemas/cg-metadata.js";
import { ComposeLogsSchema } from "../../src/schemas/composer.js";
import { type KojiComposeFinishedEvent, parseComposeFinishedEvent } from "../../src/schemas/event.js";
import { uploadFile } from "../fakes/composer-worker/upload.js";
import { openUploadClient, type UploadClient } from "../fakes/composer-worker/upload-client.js";
import { type FakeKojiHub, startFakeKojiHub } from "../fakes/koji/server.js";
import { artifactStream } from "../fixtures/artifacts.js";
import { COMPOSES, loadCompose, uploadedFiles } from "../fixtures/composes.js";
import { caught } from "../support/caught.js";
import { readCaptures } from "./wire-captures.js";

const CG_FIXTURES = new URL("../fixtures/koji-cg/", import.meta.url);
let hub: FakeKojiHub;
const opened: Array<{ close(): Promise<void> }> = [];
let koji: UploadClient;
let stranger: UploadClient;
let counter = 0;

/** A client that can upload as composer's worker does, besides making the importer's calls. */
async function clientFor(user: string): Promise<UploadClient> {
  const cert = hub.clientCert(user);
  const client = await openUploadClient({
    url: hub.url,
    auth: "ssl",
    cert_file: cert.certFile,
    key_file: cert.keyFile,
    ca_file: hub.pki.caFile,
  });
  opened.push(client);
  return client.client;
}

beforeAll(async () => {
  hub = await startFakeKojiHub();
  hub.grant("osbuild");
  hub.addTask(987654);
  koji = await clientFor("osbuild");
  stranger = await clientFor("stranger");
});

afterAll(async () => {
  await Promise.all(opened.map((client) => client.close()));
  await hub.close();
});

const fault = (call: Promise<unknown>) => caught(call, KojiFault);

/** A sample compose's CG document, reserved and uploaded on the fake hub, ready for CGImport. */
async function prepared(change?: (doc: CgMetadata) => void) {
  counter += 1;
  const fixture = loadCompose(COMPOSES.success);
  const event = parseComposeFinishedEvent({
    ...fixture.event,
    koji: { ...(fixture.event.koji as object), release: `r${counter}` },
  }) as KojiComposeFinishedEvent;
  const { build_id, token } = await koji.CGInitBuild({
    name: event.koji.name,
    version: event.koji.version,
    release: `r${counter}`,
  });
  const doc = withBuildId(
    assembleCgMetadata({ event, logs: ComposeLogsSchema.parse(fixture.logs) }),
    build_id,
  );
  const directory = `osbuild-cg/test-${counter}`;
  for (const file of uploadedFiles(fixture.logs)) {
    await uploadFile(koji, {
      directory,
      filename: file.filename,
      source: artifactStream(file.filename, file.size),
    });
  }
  change?.(doc);
  return { doc, directory, token, buildId: build_id };
}

describe("sessions", () => {
  it("logs in by client certificate and knows the user", async () => {
    expect(await koji.getLoggedInUser()).toMatchObject({ name: "osbuild" });
  });

  /** A session logged in by raw request, and the headers that carry it with a given callnum. */
  async function rawSession(target: FakeKojiHub) {
    const login = await raw("/kojihub/ssllogin", encodeCall("sslLogin", []), {}, "osbuild", target);
    const session = login as { "session-id": number; "session-key": string };
    return (callnum: number) => ({
      "Koji-Session-Id": String(session["session-id"]),
      "Koji-Session-Key": session["session-key"],
      "Koji-Session-Callnum": String(callnum),
    });
  }

  it("refuses a call whose request body is over MaxRequestLength ('Request too long')", async () => {
    const small = await startFakeKojiHub({ maxRequestLength: 2_000 });
    small.grant("osbuild");
    try {
      const headers = await rawSession(small);
      const call = (text: string) =>
        raw("/kojihub", encodeCall("getBuild", [text]), headers(1), undefined, small);
      expect(await call("x".repeat(100))).toBeNull();
      await expect(call("x".repeat(2_000))).rejects.toThrow(/1000: Request too long/);
    } finally {
      await small.close();
    }
  });

  it("checks a header session's callnum on every call: a committed one again is RetryError, a lower one SequenceError", async () => {
    const headers = await rawSession(hub);
    const call = (method: string, params: XmlRpcValue[], callnum: number) =>
      raw("/kojihub", encodeCall(method, params), headers(callnum));
    // Read-only calls do not commit, so their number may come again.
    expect(await call("getBuild", ["absent-1-1"], 3)).toBeNull();
    expect(await call("getBuild", ["absent-1-1"], 3)).toBeNull();
    // A committing call that fails stores nothing either.
    await expect(call("CGRefundBuild", ["osbuild", 1, "t"], 4)).rejects.toThrow(/^1000: No such build/);
    expect(await call("getBuild", ["absent-1-1"], 4)).toBeNull();
    await call("CGInitBuild", ["osbuild", { name: "seq-check", version: "1", release: "1" }], 5);
    await expect(call("getBuild", ["absent-1-1"], 5)).rejects.toThrow(
      /^1009: unable to retry call 5 \(method getBuild\) for session \d+$/,
    );
    await expect(call("getBuild", ["absent-1-1"], 4)).rejects.toThrow(/^1008: 5 > 4 \(session \d+\)$/);
    expect(await call("getBuild", ["absent-1-1"], 6)).toBeNull();
  });

  it("checks the callnum of uploads too", async () => {
    const headers = await rawSession(hub);
    await raw(
      "/kojihub",
      encodeCall("CGInitBuild", ["osbuild", { name: "seq-up", version: "1", release: "1" }]),
      headers(2),
    );
    await expect(
      raw("/kojihub?filename=f.qcow2&filepath=seq-up&fileverify=adler32&offset=0", "data", headers(2)),
    ).rejects.toThrow(/^1009: unable to retry call 2 \(method None\)/);
  });

  it("an expired session stays expired, every call refused with the hub's words", async () => {
    const headers = await rawSession(hub);
    const id = headers(0)["Koji-Session-Id"];
    hub.inject.authExpiredOnce();
    for (const [callnum, method] of [
      [1, "getBuild"],
      [2, "getBuild"],
      [3, "logout"],
    ] as const) {
      await expect(
        raw("/kojihub", encodeCall(method, method === "logout" ? [] : [1]), headers(callnum)),
      ).rejects.toThrow(`1007: session "${id}" has expired`);
    }
  });

  it("answers getBuild with every key the real hub's answer has", async () => {
    const captured = readCaptures().find(
      (c) =>
        c.request.body.includes("<methodName>getBuild</methodName>") &&
        decodeResponse(c.response.body).kind === "result",
    );
    const reply = decodeResponse(captured?.response.body ?? Buffer.from(""));
    const keys = reply.kind === "result" ? Object.keys(reply.value as object).sort() : [];
    expect(keys).toContain("promotion_ts");
    const reserved = await koji.CGInitBuild({ name: "keys", version: "1", release: "1" });
    const build = (await koji.getBuild(reserved.build_id)) as Record<string, unknown>;
    expect(Object.keys(build).sort()).toEqual(keys);
    expect(build).toMatchObject({
      cg_id: 1,
      cg_name: "osbuild",
      volume_id: 0,
      volume_name: "DEFAULT",
      draft: false,
    });
    expect(build.start_ts).toBeCloseTo(Date.now() / 1000, -1);
  });

  it("answers AuthExpired once a session outlives its lifetime; the client logs in again", async () => {
    hub.inject.authExpiredOnce();
    expect(await koji.getAPIVersion()).toBe(1);
  });

  it("needs the content generator granted, of admins too; an unknown one is not in the table", async () => {
    const error = await fault(stranger.CGInitBuild({ name: "x", version: "1", release: "1" }));
    expect(error.faultCode).toBe(1002);
    expect(error.faultString).toBe("Content generator access required (osbuild)");
    hub.makeAdmin("admin");
    const admin = await clientFor("admin");
    const refused = await fault(admin.CGInitBuild({ name: "x", version: "1", release: "1" }));
    expect([refused.faultCode, refused.faultString]).toEqual([
      1002,
      "Content generator access required (osbuild)",
    ]);
    const unknown = await fault(
      koji.session.call("CGInitBuild", ["nosuch", { name: "x", version: "1", release: "1" }]),
    );
    expect([unknown.faultCode, unknown.faultString]).toEqual([
      1000,
      "No such entry in table content_generator: nosuch",
    ]);
  });
});

describe("CGInitBuild and refunds", () => {
  it("refuses '-' in version or release, an existing build, and a second reservation; recycles a refunded NVR", async () => {
    expect((await fault(koji.CGInitBuild({ name: "n", version: "1-2", release: "1" }))).faultString).toBe(
      'The "-" character not allowed in version field',
    );
    const first = await koji.CGInitBuild({ name: "n", version: "1", release: "1" });
    const again = await fault(koji.CGInitBuild({ name: "n", version: "1", release: "1" }));
    expect(again.faultCode).toBe(1000);
    expect(again.faultString).toBe("Build is already reserved");
    const done = await koji.CGInitBuild({ name: "n", version: "1", release: "done" });
    const completed = hub.state.builds.get(done.build_id);
    if (completed) completed.state = 1;
    const exists = await fault(koji.CGInitBuild({ name: "n", version: "1", release: "done" }));
    expect(exists.faultString).toMatch(
      new RegExp(`^Build already exists \\(id=${done.build_id}, state=COMPLETE\\)`),
    );
    await koji.CGRefundBuild(first.build_id, first.token, "FAILED");
    const recycled = await koji.CGInitBuild({ name: "n", version: "1", release: "1" });
    expect(recycled.build_id).toBe(first.build_id);
    expect((await fault(koji.CGRefundBuild(recycled.build_id, "wrong"))).faultString).toBe(
      `Token doesn't match build ID ${recycled.build_id}`,
    );
  });

  it("lets only the owner (or an admin) cancel a build, which clears the reservation", async () => {
    const reserved = await koji.CGInitBuild({ name: "c", version: "1", release: "1" });
    expect((await fault(stranger.cancelBuild(reserved.build_id))).faultString).toBe(
      "Cannot cancel build, not owner",
    );
    expect(await koji.cancelBuild(reserved.build_id)).toBe(true);
    expect((await koji.getBuild(reserved.build_id))?.state).toBe(4);
  });
});

describe("uploads", () => {
  const upload = (client: UploadClient, directory: string, filename: string) =>
    uploadFile(client, { directory, filename, source: artifactStream(filename, 10) });

  it("refuses bad names and another user's directory", async () => {
    expect((await fault(upload(koji, "d1", ".hidden"))).faultString).toBe("Invalid upload filename: .hidden");
    expect((await fault(upload(koji, "../etc", "f.qcow2"))).faultString).toBe(
      "Invalid upload directory: ../etc",
    );
    // The hub normalizes the path first (get_upload_path), so a climb hidden inside it is refused too.
    expect((await fault(upload(koji, "a/../../etc", "f.qcow2"))).faultString).toBe(
      "Invalid upload directory: a/../../etc",
    );
    await upload(koji, "owned", "f.qcow2");
    expect((await fault(upload(stranger, "owned", "g.qcow2"))).faultString).toBe(
      "Invalid upload directory, not owner: owned",
    );
  });

  it("checks what arrived with checkUpload", async () => {
    await upload(koji, "check", "f.qcow2");
    expect(await koji.checkUpload("check", "f.qcow2")).toMatchObject({ size: 10 });
    expect(await koji.checkUpload("check", "absent.qcow2")).toBeNull();
    // An absolute directory gets past the hub's own checks; Python's path join refuses it.
    const absolute = await fault(koji.checkUpload("/abs", "f.qcow2"));
    expect([absolute.faultCode, absolute.faultString]).toEqual([
      1,
      "<class 'ValueError'>: Invalid path segment: /abs",
    ]);
  });

  it("runs system.multicall as the hub's multiCall: each result in a one-element array, each fault a struct", async () => {
    await upload(koji, "multi", "f.qcow2");
    const before = hub.counters.calls.checkUpload ?? 0;
    const replies = await koji.session.call("system.multicall", [
      [
        { methodName: "checkUpload", params: ["multi", "f.qcow2"] },
        { methodName: "checkUpload", params: ["multi", "absent.qcow2"] },
        { methodName: "checkUpload", params: ["multi", "f.qcow2", { verify: "crc", __starstar: true }] },
        { methodName: "noSuchMethod", params: [] },
      ],
    ]);
    const traceback = expect.arrayContaining([expect.stringMatching(/^Traceback/)]);
    expect(replies).toEqual([
      [expect.objectContaining({ size: 10 })],
      [null],
      { faultCode: 1000, faultString: "Unsupported verify type: crc", traceback },
      { faultCode: 1000, faultString: "Invalid method: noSuchMethod", traceback },
    ]);
    expect(hub.counters.calls.checkUpload).toBe(before + 3);
    // A Python exception inside a multicall is worded without its class, unlike the same fault answered alone.
    const [absolute] = (await koji.session.call("system.multicall", [
      [{ methodName: "checkUpload", params: ["/abs", "f.qcow2"] }],
    ])) as Array<{ faultCode: number; faultString: string; traceback: string[] }>;
    expect(absolute).toEqual({ faultCode: 1, faultString: "Invalid path segment: /abs", traceback });
    expect(absolute?.traceback.at(-1)).toBe("ValueError: Invalid path segment: /abs\n");
    // The client's batch check: sizes in the order asked, null for a missing file.
    expect(await koji.checkUploads("multi", ["absent.qcow2", "f.qcow2"])).toEqual([
      null,
      expect.objectContaining({ size: 10 }),
    ]);
    // checkUpload checks the name as get_upload_path does; a fault for one file fails the batch, naming it.
    const failure = await fault(koji.checkUploads("multi", ["f.qcow2", ".bad"]));
    expect(failure.faultString).toBe("Invalid upload filename: .bad");
    expect(failure.message).toContain("checkUpload(.bad)");
  });
});

describe("CGImport rejections, in the hub's order, with the hub's words", () => {
  const imports = async (change: (doc: CgMetadata & Record<string, any>) => void, token?: string) => {
    const p = await prepared(change);
    return fault(koji.CGImport(JSON.stringify(p.doc), p.directory, token ?? p.token));
  };

  it.each([
    ["metadata_version 1", (d: any) => (d.metadata_version = 1), 1000, "No such metadata version: 1"],
    [
      "an unknown content generator",
      (d: any) => (d.buildroots[0].content_generator.name = "nosuch"),
      1000,
      "No such entry in table content_generator: nosuch",
    ],
    [
      "an unknown build type",
      (d: any) => (d.build.extra.typeinfo = { ...d.build.extra.typeinfo, docker: {} }),
      1000,
      "No such entry in table btype: docker",
    ],
    [
      "no metadata_version",
      (d: any) => delete d.metadata_version,
      1,
      "<class 'KeyError'>: 'metadata_version'",
    ],
    ["no build.source", (d: any) => delete d.build.source, 1, "<class 'KeyError'>: 'source'"],
    ["no host.os", (d: any) => delete d.buildroots[0].host.os, 1, "<class 'KeyError'>: 'os'"],
    ["another NVR than reserved", (d: any) => (d.build.version = "43"), 1000, "NVR is different"],
    [
      "an unknown task",
      (d: any) => (d.build.task_id = 5),
      1,
      'violates foreign key constraint "build_task_id_fkey"',
    ],
    [
      "a buildroot no output uses",
      (d: any) => d.buildroots.push({ ...d.buildroots[0], id: 7 }),
      1000,
      "Buildroot id not used in output: 7",
    ],
    ["a wrong size", (d: any) => (d.output[0].filesize += 1), 1000, "doesn't match. Corrupted upload?"],
    [
      "a wrong checksum",
      (d: any) => (d.output[0].checksum = "0".repeat(32)),
      1000,
      "File checksum mismatch for",
    ],
    [
      "a wrong adler32 checksum (the hub computes it too)",
      (d: any) => Object.assign(d.output[0], { checksum_type: "adler32", checksum: "deadbeef" }),
      1000,
      "File checksum mismatch for",
    ],
    [
      "an output with two types",
      (d: any) => (d.output[0].extra.typeinfo = { image: {} }),
      1000,
      "Duplicate typeinfo for: 'image'",
    ],
    [
      "a type the build does not list",
      (d: any) => (d.build.extra = {}),
      1000,
      "Output type image not listed in build types",
    ],
    [
      "a component of no known type",
      (d: any) => d.buildroots[0].components.push({ type: "npm" }),
      1000,
      "No such component type: npm",
    ],
    [
      "an rpm with a location",
      (d: any) => (d.buildroots[0].components[0].location = "x"),
      1000,
      "External rpms not allowed",
    ],
    [
      "an rpm with an id",
      (d: any) => (d.buildroots[0].components[0].id = 3),
      1000,
      "Unexpected 'id' field in component",
    ],
    [
      "image type info without arch",
      (d: any) => delete d.output[0].extra.image.arch,
      1,
      "<class 'KeyError'>: 'arch'",
    ],
  ])("%s", async (_what, change, code, text) => {
    const error = await imports(change);
    expect(error.faultCode).toBe(code);
    expect(error.faultString).toContain(text);
  });

  it("a token that does not match, and a token without build_id", async () => {
    expect((await imports(() => undefined, "not-the-token")).faultString).toMatch(
      /^Token doesn't match build ID \d+$/,
    );
    const p = await prepared((d) => {
      delete (d.build as { build_id?: number }).build_id;
    });
    expect((await fault(koji.CGImport(JSON.stringify(p.doc), p.directory, p.token))).faultString).toBe(
      "Reservation token given, but no build_id in metadata",
    );
  });

  it("the shared Koji hub-test document: 'No typeinfo for'", async () => {
    const doc = JSON.parse(
      (await import("node:fs")).readFileSync(new URL("koji-cg-importer-default.json", CG_FIXTURES), "utf8"),
    );
    hub.state.contentGenerators.add("osbs");
    hub.grant("osbuild", "osbs");
    const directory = "cg-default";
    for (const output of doc.output as Array<{ filename: string; filesize: number }>) {
      await uploadFile(koji, {
        directory,
        filename: output.filename,
        source: artifactStream(output.filename, output.filesize),
      });
    }
    const file = (doc.output as Array<{ filename: string; checksum: string; checksum_type: string }>)[0];
    if (file) file.checksum = (await koji.checkUpload(directory, file.filename, "md5"))?.hexdigest ?? "";
    const error = await fault(koji.CGImport(JSON.stringify(doc), directory, null as unknown as string));
    expect(error.faultString).toBe(`No typeinfo for: ${file?.filename}`);
  });

  it("an unregistered extension fails during the move: the build rolls back but moved files are gone", async () => {
    const p = await prepared();
    const saved = hub.state.archiveTypes;
    // Without raw-xz, a `.raw.xz` is nothing: the real table has no plain xz type.
    hub.state.unregisterArchiveTypes("raw-xz");
    try {
      const error = await fault(koji.CGImport(JSON.stringify(p.doc), p.directory, p.token));
      expect(error.faultString).toBe(
        "unsupported file extension: Fedora-Cloud-Base-42-20250101.0.aarch64.raw.xz",
      );
      // The x86_64 outputs came first and were moved before the failure: gone from the upload directory.
      expect(await koji.checkUpload(p.directory, "Fedora-Cloud-Base-42-20250101.0.x86_64.qcow2")).toBeNull();
      expect(
        await koji.checkUpload(p.directory, "Fedora-Cloud-Base-42-20250101.0.aarch64.raw.xz"),
      ).not.toBeNull();
      expect((await koji.getBuild(p.buildId))?.state).toBe(0);
    } finally {
      hub.state.archiveTypes = saved;
    }
  });

  it("types archives by the real hub's table: case-insensitive, longest extension first; a plain .xz is refused", async () => {
    const captured = JSON.parse(
      (await import("node:fs")).readFileSync(
        new URL("../fixtures/koji-wire/getArchiveTypes.json", import.meta.url),
        "utf8",
      ),
    );
    expect(await koji.getArchiveTypes()).toEqual(captured);
    const names = (await koji.getArchiveTypes()).map((t) => t.name);
    for (const absent of ["xz", "oci-tar", "vagrant-libvirt", "tar.gz", "tar.xz"])
      expect(names).not.toContain(absent);
    const renamed = async (to: string[]) => {
      const p = await prepared();
      const images = p.doc.output.filter((o) => o.type === "image");
      for (const [i, name] of to.entries()) {
        const output = images[i];
        if (!output) throw new Error("the fixture has too few images");
        await uploadFile(koji, {
          directory: p.directory,
          filename: name,
          source: artifactStream(name, output.filesize),
        });
        output.filename = name;
        output.checksum_type = "md5";
        output.checksum = (await koji.checkUpload(p.directory, name, "md5"))?.hexdigest ?? "";
      }
      return p;
    };
    const good = await renamed(["disk.QCOW2", "disk.vagrant-libvirt.box"]);
    await koji.CGImport(JSON.stringify(good.doc), good.directory, good.token);
    const typed = (await koji.listArchives({ buildID: good.buildId })).map((a) => [a.filename, a.type_name]);
    expect(typed).toEqual(
      expect.arrayContaining([
        ["disk.QCOW2", "qcow2"],
        ["disk.vagrant-libvirt.box", "box"],
      ]),
    );
    const tar = await renamed(["disk.tar.gz", "disk.raw.gz"]);
    await koji.CGImport(JSON.stringify(tar.doc), tar.directory, tar.token);
    expect((await koji.listArchives({ buildID: tar.buildId })).map((a) => a.type_name)).toEqual(
      expect.arrayContaining(["tar", "raw-gz"]),
    );
    const xz = await renamed(["disk.qcow2", "disk.xz"]);
    expect((await fault(koji.CGImport(JSON.stringify(xz.doc), xz.directory, xz.token))).faultString).toBe(
      "unsupported file extension: disk.xz",
    );
  });

  it("matches RPM components against the RPMs it knows; unmatched ones are only noted in cg_import.log", async () => {
    const rpm = (name: string, sigmd5: string) => ({
      type: "rpm" as const,
      name,
      version: "1.0",
      release: "1.fc43",
      epoch: null,
      arch: "x86_64",
      sigmd5,
      signature: null,
    });
    hub.state.addRpm({
      name: "known",
      version: "1.0",
      release: "1.fc43",
      arch: "x86_64",
      sigmd5: "a".repeat(32),
    });
    hub.state.addRpm({
      name: "resigned",
      version: "1.0",
      release: "1.fc43",
      arch: "x86_64",
      sigmd5: "b".repeat(32),
    });
    const components = [
      rpm("known", "a".repeat(32)),
      rpm("resigned", "c".repeat(32)),
      rpm("unknown", "d".repeat(32)),
    ];
    const p = await prepared((doc) => {
      // Each buildroot's components are matched (and noted) on their own: components in the first one only.
      for (const [i, br] of doc.buildroots.entries())
        br.components = (i === 0 ? components : []) as typeof br.components;
      for (const output of doc.output) delete (output as { components?: unknown }).components;
    });
    expect(await koji.CGImport(JSON.stringify(p.doc), p.directory, p.token)).toMatchObject({ state: 1 });
    const build = hub.state.builds.get(p.buildId);
    // A different sigmd5 is noted but the RPM is kept; an unknown one is dropped.
    expect(Object.values(build?.rpmComponents.buildroots ?? {})[0]).toEqual([
      "known-1.0-1.fc43.x86_64",
      "resigned-1.0-1.fc43.x86_64",
    ]);
    expect(build?.cgImportLog).toBe(
      [
        "IGNORING rpm component (md5 mismatch): {'type': 'rpm', 'name': 'resigned', 'version': '1.0', 'release': '1.fc43', 'epoch': None, 'arch': 'x86_64', 'sigmd5': 'cccccccccccccccccccccccccccccccc', 'signature': None}",
        "IGNORING unmatched rpm component: {'type': 'rpm', 'name': 'unknown', 'version': '1.0', 'release': '1.fc43', 'epoch': None, 'arch': 'x86_64', 'sigmd5': 'dddddddddddddddddddddddddddddddd', 'signature': None}",
        "CG import was SUCCESSFUL.",
        "",
      ].join("\n"),
    );
    // Nothing to note, no log.
    const quiet = await prepared((doc) => {
      for (const br of doc.buildroots) br.components = [components[0]] as typeof br.components;
      for (const output of doc.output) delete (output as { components?: unknown }).components;
    });
    await koji.CGImport(JSON.stringify(quiet.doc), quiet.directory, quiet.token);
    expect(hub.state.builds.get(quiet.buildId)?.cgImportLog).toBeNull();
  });

  it("imports a good document: COMPLETE with its extra, archives typed, and a second import refused", async () => {
    const p = await prepared();
    const build = await koji.CGImport(JSON.stringify(p.doc), p.directory, p.token);
    expect(build).toMatchObject({ id: p.buildId, state: 1 });
    expect((await koji.getBuild(p.buildId))?.extra).toEqual(p.doc.build.extra);
    const archives = await koji.listArchives({ buildID: p.buildId });
    expect(archives.map((a) => a.type_name).sort()).toEqual([
      "json",
      "json",
      "json",
      "json",
      "qcow2",
      "raw-xz",
    ]);
    expect(archives.every((a) => a.btype === "image")).toBe(true);
    expect(hub.state.builds.get(p.buildId)?.metadata).toEqual(p.doc);
    // The hub moved the files into the build and left symlinks: checkUpload still reports every one.
    const names = p.doc.output.map((o) => o.filename);
    const checked = await koji.checkUploads(p.directory, names);
    expect(checked.map((c, i) => [names[i], c?.size])).toEqual(
      p.doc.output.map((o) => [o.filename, o.filesize]),
    );
    const again = await fault(koji.CGImport(JSON.stringify(p.doc), p.directory, p.token));
    expect(again.faultString).toMatch(/Token doesn't match|not in BUILDING state/);
  });

  it("a slow CGImport, as the real hub's: BUILDING until it commits, a second import meanwhile refused, no refund after", async () => {
    const p = await prepared();
    hub.state.importDurationMs = 400;
    try {
      const first = koji.CGImport(JSON.stringify(p.doc), p.directory, p.token);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await koji.getBuild(p.buildId))?.state).toBe(0);
      const second = await fault(koji.CGImport(JSON.stringify(p.doc), p.directory, p.token));
      expect(second.faultString).toBe(
        `Destination directory already exists: /mnt/koji/packages/${p.doc.build.name}/${p.doc.build.version}/${p.doc.build.release}`,
      );
      expect(await first).toMatchObject({ id: p.buildId, state: 1 });
      const refund = await fault(koji.CGRefundBuild(p.buildId, p.token));
      expect(refund.faultString).toBe(`Build ID ${p.buildId} is not in BUILDING state`);
      expect((await koji.getBuild(p.buildId))?.state).toBe(1);
    } finally {
      hub.state.importDurationMs = 0;
    }
  });
});

/** A raw XML-RPC POST to the fake hub (for what the client never sends on purpose, like a reused callnum). */
function raw(
  path: string,
  body: string,
  headers: Record<string, string>,
  certUser?: string,
  target: FakeKojiHub = hub,
): Promise<XmlRpcValue> {
  const url = new URL(target.url);
  const cert = certUser ? target.clientCert(certUser) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: "POST",
        ca: target.pki.ca.cert,
        ...(cert ? { cert: cert.cert, key: cert.key } : {}),
        headers: { "Content-Type": "text/xml", ...headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (p: Buffer) => parts.push(p));
        res.on("end", () => {
          const decoded = decodeResponse(Buffer.concat(parts));
          if (decoded.kind === "fault") reject(new Error(`${decoded.faultCode}: ${decoded.faultString}`));
          else resolve(decoded.value as XmlRpcValue);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
