import { z } from "zod";
import { permanentError } from "../errors.js";
import { nestedDeeperThan } from "../json-limits.js";
import { parseInput } from "../validation.js";
import { kojiText, NAME_MAX } from "./koji-text.js";

/**
 * The compose-finished event composer publishes, version 1. `koji` is absent for composes that Koji did not ask
 * for: those are acknowledged and recorded as ignored, never imported. Unknown fields are dropped: the importer
 * reads none, and what it stores is the event it understood, not whatever rode along.
 */
export const SUPPORTED_EVENT_VERSIONS = [1] as const;

/** Deeper than any event composer sends (two levels); checked on the text, before JSON.parse. */
export const MAX_EVENT_DEPTH = 32;

/** Koji's CGInitBuild refuses a `-` in version and release (koji.check_NVR: it would make the NVR ambiguous). */
const NvrPart = kojiText()
  .min(1)
  .refine((value) => !value.includes("-"), { message: "must not contain '-'" });

/**
 * A directory under the hub's work directory, where composer's worker uploaded the outputs. Koji's checkUpload
 * normalises the path before it checks where it leads, so every segment is checked here, not only the start.
 */
const UploadDirectory = kojiText()
  .min(1)
  .refine((dir) => !dir.startsWith("/"), { message: "must be relative to Koji's work directory" })
  .superRefine((dir, ctx) => {
    if (dir.startsWith("/")) return;
    dir.split("/").forEach((segment, index) => {
      if (segment === "" || segment === "." || segment === "..") {
        const what = segment === "" ? "an empty segment" : `a '${segment}' segment`;
        ctx.addIssue({
          code: "custom",
          message: `must be relative to Koji's work directory: ${what} (segment ${index})`,
        });
      } else if (Buffer.byteLength(segment) > NAME_MAX) {
        ctx.addIssue({ code: "custom", message: `segment ${index} is over ${NAME_MAX} bytes (NAME_MAX)` });
      }
    });
  });

export const KojiEventInfoSchema = z.object({
  server: z.url({ protocol: /^https?$/, error: "expected an http(s) URL of the Koji hub" }),
  task_id: z.number().int().positive(),
  name: kojiText().min(1),
  version: NvrPart,
  release: NvrPart,
  upload_directory: UploadDirectory,
});
export type KojiEventInfo = z.infer<typeof KojiEventInfoSchema>;

const Rfc3339 = z.iso.datetime({ offset: true, error: "expected an RFC 3339 date-time" });

export const ComposeFinishedEventSchema = z.object({
  type: z.literal("compose.finished"),
  version: z.literal(1),
  compose_id: z.uuid(),
  status: z.enum(["success", "failure"]),
  submitted_at: Rfc3339,
  finished_at: Rfc3339,
  koji: KojiEventInfoSchema.optional(),
});
export type ComposeFinishedEvent = z.infer<typeof ComposeFinishedEventSchema>;

/** An event that names Koji: the only kind the pipeline imports. */
export type KojiComposeFinishedEvent = ComposeFinishedEvent & { koji: KojiEventInfo };

export function isKojiEvent(event: ComposeFinishedEvent): event is KojiComposeFinishedEvent {
  return event.koji !== undefined;
}

/**
 * Parses an event from the queue. An unknown `version` gets its own code so a dead letter says plainly that the
 * publisher is newer than this importer, rather than listing every field that moved.
 */
export function parseComposeFinishedEvent(input: unknown): ComposeFinishedEvent {
  if (typeof input === "object" && input !== null && "version" in input) {
    const version = (input as { version: unknown }).version;
    if (!(SUPPORTED_EVENT_VERSIONS as readonly unknown[]).includes(version)) {
      throw permanentError(
        "EVENT_UNSUPPORTED_VERSION",
        `event: unsupported version ${JSON.stringify(version)} (this importer reads version ${SUPPORTED_EVENT_VERSIONS.join(", ")})`,
        { details: { field: "version" } },
      );
    }
  }
  return parseInput(ComposeFinishedEventSchema, input, "event", "EVENT_INVALID");
}

/**
 * The import-result event the importer publishes, version 1, once an import reaches `imported`, `failed` or
 * `refunded` (an ignored event publishes nothing): on AMQP_EXCHANGE with routing key AMQP_RESULT_ROUTING_KEY,
 * message_id `<compose_id>:<state>`. `koji.build_id` is the build made or the reservation given back, null when
 * none was reserved; `error` is set for `failed` and `refunded`.
 */
export const IMPORT_RESULT_STATES = ["imported", "failed", "refunded"] as const;
export type ImportResultState = (typeof IMPORT_RESULT_STATES)[number];

export const ImportFinishedEventSchema = z
  .object({
    type: z.literal("koji.import.finished"),
    version: z.literal(1),
    compose_id: z.uuid(),
    state: z.enum(IMPORT_RESULT_STATES),
    koji: z.object({
      server: z.string().min(1),
      build_id: z.number().int().positive().nullable(),
      nvr: z.string().min(1),
    }),
    error: z.object({ code: z.string().min(1), message: z.string() }).nullable(),
    finished_at: Rfc3339,
  })
  .refine((event) => (event.state === "imported") === (event.error === null), {
    message: "error is null exactly when the state is imported",
    path: ["error"],
  });
export type ImportFinishedEvent = z.infer<typeof ImportFinishedEventSchema>;

/** The AMQP message_id of a result: one per compose and final state, so a consumer can drop redeliveries. */
export function importResultMessageId(composeId: string, state: ImportResultState): string {
  return `${composeId}:${state}`;
}

/**
 * An event's JSON text within the limits, or why not. A body over `maxBytes` is not read at all, and one nested
 * deeper than MAX_EVENT_DEPTH is not parsed: either would cost memory or stack before any schema could say no.
 */
function eventText(body: Uint8Array, maxBytes: number): string {
  if (body.byteLength > maxBytes) {
    throw permanentError(
      "EVENT_TOO_LARGE",
      `event: ${body.byteLength} bytes, over the limit MAX_EVENT_BYTES=${maxBytes}; not read`,
      { details: { field: "(root)", limit: "MAX_EVENT_BYTES", max_bytes: maxBytes, bytes: body.byteLength } },
    );
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  if (nestedDeeperThan(text, MAX_EVENT_DEPTH)) {
    throw permanentError(
      "EVENT_TOO_DEEP",
      `event: nested deeper than the limit of ${MAX_EVENT_DEPTH} levels; not parsed`,
      { details: { field: "(root)", limit: "MAX_EVENT_DEPTH", max_depth: MAX_EVENT_DEPTH } },
    );
  }
  return text;
}

/** A message body from the queue: the limits, then JSON, then the schema. Every failure is permanent. */
export function parseEventBody(body: Uint8Array, maxBytes: number): ComposeFinishedEvent {
  const text = eventText(body, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw permanentError("EVENT_NOT_JSON", `event: not JSON (${(error as Error).message})`);
  }
  return parseComposeFinishedEvent(json);
}

/** The compose id of a body that failed validation, when it has a readable one within the limits. */
export function composeIdOfBody(body: Uint8Array, maxBytes: number): string | undefined {
  try {
    const id = (JSON.parse(eventText(body, maxBytes)) as { compose_id?: unknown } | null)?.compose_id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}
