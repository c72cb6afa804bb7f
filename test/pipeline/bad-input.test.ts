import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPOSES, loadCompose } from "../fixtures/composes.js";
import { createHarness, type Harness } from "./harness.js";

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

const withKoji = (change: Record<string, unknown>) => ({
  ...good,
  compose_id: randomUUID(),
  koji: { ...good.koji, ...change },
});

const BAD_EVENTS: Array<[string, () => unknown, string, string]> = [
  ["not JSON", () => Buffer.from("{compose_id: 1"), "EVENT_NOT_JSON", "event: not JSON"],
  ["a JSON array", () => [good], "EVENT_INVALID", "event: invalid (root)"],
  ["no compose_id", () => ({ ...good, compose_id: undefined }), "EVENT_INVALID", "compose_id"],
  [
    "a compose_id that is no UUID",
    () => ({ ...good, compose_id: "compose-1" }),
    "EVENT_INVALID",
    "compose_id",
  ],
  ["version 2", () => ({ ...good, version: 2 }), "EVENT_UNSUPPORTED_VERSION", "unsupported version 2"],
  ["another event type", () => ({ ...good, type: "compose.started" }), "EVENT_INVALID", "type"],
  ["status pending", () => ({ ...good, status: "pending" }), "EVENT_INVALID", "status"],
  [
    "a date that is not RFC 3339",
    () => ({ ...good, finished_at: "yesterday" }),
    "EVENT_INVALID",
    "finished_at",
  ],
  ["task_id as a string", () => withKoji({ task_id: "42" }), "EVENT_INVALID", "koji.task_id"],
  ["a hub that is no http(s) URL", () => withKoji({ server: "ftp://koji" }), "EVENT_INVALID", "koji.server"],
  ["a release with '-'", () => withKoji({ release: "1-2" }), "EVENT_INVALID", "koji.release"],
  [
    "an upload directory outside the work dir",
    () => withKoji({ upload_directory: "../etc" }),
    "EVENT_INVALID",
    "koji.upload_directory",
  ],
  ["no koji.name", () => withKoji({ name: undefined }), "EVENT_INVALID", "koji.name"],
];

describe("malformed events are dead-lettered with a reason naming the field", () => {
  it.each(BAD_EVENTS)("%s", async (_what, makeBody, code, reason) => {
    const body = makeBody();
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    await h.publisher.publishRaw(h.config.AMQP_EXCHANGE, h.config.AMQP_ROUTING_KEY, raw);
    const dead = await h.nextDeadLetter();
    expect(dead.properties.headers?.["x-error-code"]).toBe(code);
    expect(String(dead.properties.headers?.["x-death-reason"])).toContain(reason);
    expect(dead.content.equals(raw)).toBe(true);
  });
});

describe("bad answers from composer fail the import with a message naming the field", () => {
  async function failWith(
    prepare: (composeId: string) => void,
    code: string,
    reason: string | RegExp,
    event?: object,
  ) {
    const compose = event
      ? { composeId: (event as { compose_id: string }).compose_id, event }
      : await h.prepareCompose();
    prepare(compose.composeId);
    await h.publish(compose.event);
    const row = await h.waitForState(compose.composeId, ["failed", "refunded", "imported"]);
    expect(row.last_error_code).toBe(code);
    expect(row.last_error).toMatch(reason);
    const dead = await h.nextDeadLetter();
    expect(dead.properties.headers?.["x-compose-id"]).toBe(compose.composeId);
  }

  it("a status that breaks the schema", () =>
    failWith(
      (id) => h.composer.injectFault(id, { kind: "schema-violation", endpoint: "status", times: 100 }),
      "COMPOSER_INVALID_RESPONSE",
      /invalid status/,
    ));

  it("logs that break the schema", () =>
    failWith(
      (id) => h.composer.injectFault(id, { kind: "schema-violation", endpoint: "logs", times: 100 }),
      "COMPOSER_INVALID_RESPONSE",
      /image_builds/,
    ));

  it("an image build without its boot mode", () =>
    failWith(
      (id) => {
        const bodies = loadCompose(COMPOSES.success);
        delete (bodies.logs.image_builds as Array<Record<string, unknown>>)[1]?.image_boot_mode;
        h.composer.addCompose(id, { status: bodies.status, logs: bodies.logs, manifests: bodies.manifests });
      },
      "COMPOSE_NOT_IMPORTABLE",
      "image build 1 has no image_boot_mode",
    ));

  it("a Koji target result whose size is not a number", () =>
    failWith(
      (id) => {
        const bodies = loadCompose(COMPOSES.success);
        const build = (
          bodies.logs.image_builds as Array<{
            target_results: Array<{ options: { image: { size: unknown } } }>;
          }>
        )[0];
        if (build?.target_results[0]) build.target_results[0].options.image.size = "4 KiB";
        h.composer.addCompose(id, { status: bodies.status, logs: bodies.logs, manifests: bodies.manifests });
      },
      "COMPOSER_INVALID_RESPONSE",
      "image_builds[0].target_results[0].options: invalid image.size",
    ));

  it("a compose composer does not know (404)", () => {
    const composeId = randomUUID();
    return failWith(() => undefined, "COMPOSER_HTTP", /404/, {
      ...good,
      compose_id: composeId,
      koji: { ...good.koji, release: `1.${composeId.slice(0, 8)}` },
    });
  });

  it("an event naming a Koji hub that is not configured", () => {
    const composeId = randomUUID();
    return failWith(
      () => undefined,
      "KOJI_UNKNOWN_HUB",
      "https://other-koji.example.org/kojihub is not configured",
      {
        ...good,
        compose_id: composeId,
        koji: { ...good.koji, server: "https://other-koji.example.org/kojihub" },
      },
    );
  });

  it("and the worker keeps running: a good compose still imports", async () => {
    await h.publish(good);
    expect((await h.waitForState(good.compose_id, ["imported", "failed", "refunded"])).state).toBe(
      "imported",
    );
  });
});
