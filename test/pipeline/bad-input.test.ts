import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { createHarness, type Harness } from "./harness.js";

/**
 * Malformed and hostile input through the live worker (real RabbitMQ and PostgreSQL, the fake composer and Koji
 * hub): every case ends on its first attempt, dead-lettered with a code and a reason naming the field or the
 * limit, without reserving anything in Koji; and the worker keeps importing good composes.
 */

let h: Harness;
let good: Record<string, any>;

beforeAll(async () => {
  h = await createHarness("badinput");
  await h.startWorker();
  good = (await h.prepareCompose()).event;
});

afterAll(async () => {
  await h.close();
});

type Logs = {
  image_builds: Array<{
    target_results: Array<{ options: Record<string, any> | null }>;
    osbuild_output: {
      metadata: Record<string, Record<string, { packages: Array<Record<string, unknown>> }>>;
    };
    [key: string]: unknown;
  }>;
  [key: string]: unknown;
};

/** What Koji saw of a case: nothing at all, or nothing that reserves, uploads, imports or refunds a build. */
type KojiSeen = "untouched" | "no reservation";
const BUILD_CALLS = ["CGInitBuild", "CGImport", "CGRefundBuild", "checkUpload", "getBuild", "cancelBuild"];

interface Case {
  what: string;
  /** The message to publish, and the compose it names when it has a readable one. */
  message: () => Promise<{ body: Buffer; composeId?: string }>;
  code: string;
  /** In the dead letter's reason: the field, or the limit, that is wrong. */
  names: string | RegExp;
  attempt: number;
  koji: KojiSeen;
}

const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)) });
const event = (change: Record<string, unknown>) => async () =>
  json({ ...good, compose_id: randomUUID(), ...change });
const withKoji = (change: Record<string, unknown>) => async () =>
  json({ ...good, compose_id: randomUUID(), koji: { ...good.koji, ...change } });
const deepText = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
const deep = (levels: number) => JSON.parse(deepText(levels));
/** A good event with a field nested `levels` deep, written as text: JSON.stringify itself cannot go that deep. */
const deepEvent = (levels: number) => async () => ({
  body: Buffer.from(
    JSON.stringify({ ...good, compose_id: randomUUID() }).replace(/}$/, `,"extra":${deepText(levels)}}`),
  ),
});

/** A good event for a compose whose logs composer answers changed by `change`. */
function composeWith(change: (logs: Logs) => void) {
  return async () => {
    const { composeId, event } = await h.prepareCompose(COMPOSES.success, { upload: false });
    const bodies = loadCompose(COMPOSES.success);
    change(bodies.logs as unknown as Logs);
    h.composer.addCompose(composeId, {
      status: bodies.status,
      logs: bodies.logs,
      manifests: bodies.manifests,
    });
    return { ...json(event), composeId };
  };
}

/** A good event for a compose composer answers with a fault. */
function composeFaulty(fault: Parameters<Harness["composer"]["injectFault"]>[1]) {
  return async () => {
    const { composeId, event } = await h.prepareCompose(COMPOSES.success, { upload: false });
    h.composer.injectFault(composeId, fault);
    return { ...json(event), composeId };
  };
}

const kojiImage = (logs: Logs) =>
  (logs.image_builds[0] as unknown as { target_results: Array<{ options: { image: any } }> })
    .target_results[0]?.options.image;
const payloadPackages = (logs: Logs) =>
  logs.image_builds[0]?.osbuild_output.metadata.os?.["org.osbuild.rpm"]?.packages as Array<
    Record<string, unknown>
  >;

const CASES: Case[] = [
  // --- the event ---
  {
    what: "not JSON",
    message: async () => ({ body: Buffer.from("{compose_id: 1") }),
    code: "EVENT_NOT_JSON",
    names: "event: not JSON",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a JSON array",
    message: async () => json([good]),
    code: "EVENT_INVALID",
    names: "event: invalid (root)",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "no compose_id",
    message: event({ compose_id: undefined }),
    code: "EVENT_INVALID",
    names: "compose_id",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a compose_id that is no UUID",
    message: event({ compose_id: "compose-1" }),
    code: "EVENT_INVALID",
    names: "compose_id",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "version 2",
    message: event({ version: 2 }),
    code: "EVENT_UNSUPPORTED_VERSION",
    names: "unsupported version 2",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "another event type",
    message: event({ type: "compose.started" }),
    code: "EVENT_INVALID",
    names: "type",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "status pending",
    message: event({ status: "pending" }),
    code: "EVENT_INVALID",
    names: "status",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a date that is not RFC 3339",
    message: event({ finished_at: "yesterday" }),
    code: "EVENT_INVALID",
    names: "finished_at",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "task_id as a string",
    message: withKoji({ task_id: "42" }),
    code: "EVENT_INVALID",
    names: "koji.task_id",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a hub that is no http(s) URL",
    message: withKoji({ server: "ftp://koji" }),
    code: "EVENT_INVALID",
    names: "koji.server",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "no koji.name",
    message: withKoji({ name: undefined }),
    code: "EVENT_INVALID",
    names: "koji.name",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a release with '-'",
    message: withKoji({ release: "1-2" }),
    code: "EVENT_INVALID",
    names: "koji.release: must not contain '-'",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a version with '-'",
    message: withKoji({ version: "42-1" }),
    code: "EVENT_INVALID",
    names: "koji.version: must not contain '-'",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a control character (U+0001) in koji.name",
    message: withKoji({ name: "Fedora-Cloud\u0001" }),
    code: "EVENT_INVALID",
    names: "koji.name: must not contain a control character (U+0001 at index 12)",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a NUL in koji.release",
    message: withKoji({ release: "1\u0000" }),
    code: "EVENT_INVALID",
    names: "koji.release: must not contain a control character (U+0000",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "an upload directory outside the work dir",
    message: withKoji({ upload_directory: "../etc" }),
    code: "EVENT_INVALID",
    names: "koji.upload_directory",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "an upload directory with '..' after the prefix",
    message: withKoji({ upload_directory: "osbuild-cg/../../etc" }),
    code: "EVENT_INVALID",
    names: "koji.upload_directory: must be relative to Koji's work directory: a '..' segment",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "an upload directory with an empty segment",
    message: withKoji({ upload_directory: "osbuild-cg//x" }),
    code: "EVENT_INVALID",
    names: "koji.upload_directory: must be relative to Koji's work directory: an empty segment",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a control character in the upload directory",
    message: withKoji({ upload_directory: "osbuild-cg/x\u001b[2J" }),
    code: "EVENT_INVALID",
    names: "koji.upload_directory: must not contain a control character (U+001B",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a valid event with an extra field nested 100 000 levels deep",
    message: deepEvent(100_000),
    code: "EVENT_TOO_LARGE",
    names: "over the limit MAX_EVENT_BYTES=65536",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "a valid event with an extra field nested 1 000 levels deep (under the size limit)",
    message: deepEvent(1_000),
    code: "EVENT_TOO_DEEP",
    names: "nested deeper than the limit of 32 levels",
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "an event of 5 MB (valid plus padding)",
    message: event({ padding: "x".repeat(5 * 1024 * 1024) }),
    code: "EVENT_TOO_LARGE",
    names: /event: 52\d{5} bytes, over the limit MAX_EVENT_BYTES=65536; not read/,
    attempt: 1,
    koji: "untouched",
  },
  {
    what: "an event naming a Koji hub that is not configured",
    message: withKoji({ server: "https://other-koji.example.org/kojihub" }),
    code: "KOJI_UNKNOWN_HUB",
    names: "https://other-koji.example.org/kojihub is not configured",
    attempt: 1,
    koji: "untouched",
  },
  // --- composer's answers ---
  {
    what: "a status that breaks the schema",
    message: composeFaulty({ kind: "schema-violation", endpoint: "status", times: 100 }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "invalid status",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "logs that break the schema",
    message: composeFaulty({ kind: "schema-violation", endpoint: "logs", times: 100 }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "image_builds",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "a compose composer does not know (404)",
    message: async () => json({ ...good, compose_id: randomUUID() }),
    code: "COMPOSER_HTTP",
    names: "404",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "an image build without its boot mode",
    message: composeWith((logs) => {
      delete logs.image_builds[1]?.image_boot_mode;
    }),
    code: "COMPOSE_NOT_IMPORTABLE",
    names: "image build 1 has no image_boot_mode",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "a Koji target result whose size is not a number",
    message: composeWith((logs) => {
      kojiImage(logs).size = "4 KiB";
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "image_builds[0].target_results[0].options: invalid image.size",
    attempt: 1,
    koji: "no reservation",
  },
  {
    // A reader that trusted the body would throw a TypeError here (options.image of null): a named error instead.
    what: "a Koji target result whose options are null",
    message: composeWith((logs) => {
      (logs.image_builds[0]?.target_results[0] as { options: unknown }).options = null;
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "image_builds[0].target_results[0].options: invalid (root)",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "a NUL byte in an output filename",
    message: composeWith((logs) => {
      kojiImage(logs).filename = "disk\u0000.qcow2";
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names:
      "invalid image_builds[0].target_results[0].options.image.filename: holds a NUL character (U+0000), which PostgreSQL cannot store",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "a 1 000-character output filename",
    message: composeWith((logs) => {
      kojiImage(logs).filename = `${"a".repeat(994)}.qcow2`;
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names:
      "invalid image.filename: is 1000 bytes long, over 255 (NAME_MAX): Koji stores each output as a file",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "an output filename with a '/'",
    message: composeWith((logs) => {
      kojiImage(logs).filename = "../../disk.qcow2";
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "invalid image.filename: must not contain '/'",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "a control character in a package name that becomes CG metadata",
    message: composeWith((logs) => {
      (payloadPackages(logs)[0] as { name: string }).name = "bash\u0007";
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "org.osbuild.rpm.packages[0]: invalid name: must not contain a control character (U+0007",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "a control character in an image build's arch",
    message: composeWith((logs) => {
      (logs.image_builds[0] as unknown as { arch: string }).arch = "x86_64\n";
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "image_builds[0].arch: must not contain a control character (U+000A",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "logs nested 1 000 levels deep",
    message: composeWith((logs) => {
      logs.extra = deep(1_000);
    }),
    code: "COMPOSER_INVALID_RESPONSE",
    names: "body nested deeper than 256 levels",
    attempt: 1,
    koji: "no reservation",
  },
  {
    what: "a compose whose CG document is 7.6 MB (50 000 RPMs)",
    message: composeWith((logs) => {
      const packages = payloadPackages(logs);
      const template = packages[0] as Record<string, unknown>;
      for (let i = 0; i < 50_000; i++) packages.push({ ...template, name: `package-${i}` });
    }),
    code: "KOJI_PREFLIGHT",
    names:
      /the CGImport request is \d+ bytes \(metadata \d+\), over the hub's limit of 4194304 \(KOJI_MAX_METADATA_BYTES\)/,
    attempt: 1,
    koji: "no reservation",
  },
];

describe("malformed and hostile input ends on its first attempt, before Koji is touched, naming the field", () => {
  it.each(CASES)("$what", async ({ message, code, names, attempt, koji }) => {
    const { body, composeId } = await message();
    const before = { ...h.hub.counters.calls };
    await h.publisher.publishRaw(h.config.AMQP_EXCHANGE, h.config.AMQP_ROUTING_KEY, body);
    const dead = await h.nextDeadLetter(60_000);
    const headers = dead.properties.headers ?? {};
    expect(headers["x-error-code"]).toBe(code);
    expect(headers["x-error-class"]).toBe("permanent");
    expect(String(headers["x-death-reason"])).toMatch(
      typeof names === "string" ? new RegExp(names.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : names,
    );
    expect(headers["x-attempts"]).toBe(attempt);
    expect(dead.content.equals(body)).toBe(true);
    if (composeId) {
      expect(headers["x-compose-id"]).toBe(composeId);
      const row = await h.waitForState(composeId, ["failed"]);
      expect(row).toMatchObject({ last_error_code: code, attempts: attempt });
    }
    const called = Object.entries(h.hub.counters.calls).filter(([method, n]) => n !== (before[method] ?? 0));
    if (koji === "untouched") expect(called).toEqual([]);
    else expect(called.map(([method]) => method).filter((m) => BUILD_CALLS.includes(m))).toEqual([]);
  });

  it("a message its publisher gave no message id gets one, so `dlq list` can name it", async () => {
    h.publisher.channel.publish(h.config.AMQP_EXCHANGE, h.config.AMQP_ROUTING_KEY, Buffer.from("nope"));
    await h.publisher.channel.waitForConfirms();
    const dead = await h.nextDeadLetter();
    expect(dead.properties.messageId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("and the worker keeps running", () => {
  it("stores only the fields of the event it reads, not unknown padding", async () => {
    const { composeId, event } = await h.prepareCompose();
    await h.publish({ ...event, padding: "x".repeat(32 * 1024), koji: { ...event.koji, note: "y" } });
    expect((await h.waitForState(composeId, ["imported", "failed", "refunded"])).state).toBe("imported");
    const stored = await h.pool.query<{ event: Record<string, any> }>(
      "SELECT event FROM imports WHERE compose_id = $1",
      [composeId],
    );
    expect(stored.rows[0]?.event).not.toHaveProperty("padding");
    expect(stored.rows[0]?.event.koji).not.toHaveProperty("note");
    expect(stored.rows[0]?.event.koji).toEqual(event.koji);
  });

  it("a good compose still imports", async () => {
    await h.publish(good);
    expect((await h.waitForState(good.compose_id, ["imported", "failed", "refunded"])).state).toBe(
      "imported",
    );
  });
});
