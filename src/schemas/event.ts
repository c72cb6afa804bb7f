import { z } from "zod";
import { permanentError } from "../errors.js";
import { parseInput } from "../validation.js";

/**
 * The compose-finished event composer publishes, version 1. `koji` is absent for composes that Koji did not ask
 * for: those are acknowledged and recorded as ignored, never imported.
 */
export const SUPPORTED_EVENT_VERSIONS = [1] as const;

/** Koji's CGInitBuild refuses a `-` in version and release (it would make the NVR ambiguous). */
const NvrPart = z
  .string()
  .min(1)
  .refine((value) => !value.includes("-"), { message: "must not contain '-'" });

export const KojiEventInfoSchema = z.looseObject({
  server: z.url({ protocol: /^https?$/, error: "expected an http(s) URL of the Koji hub" }),
  task_id: z.number().int().positive(),
  name: z.string().min(1),
  version: NvrPart,
  release: NvrPart,
  upload_directory: z
    .string()
    .min(1)
    .refine((dir) => !dir.startsWith("..") && !dir.startsWith("/"), {
      message: "must be relative to Koji's work directory",
    }),
});
export type KojiEventInfo = z.infer<typeof KojiEventInfoSchema>;

const Rfc3339 = z.iso.datetime({ offset: true, error: "expected an RFC 3339 date-time" });

export const ComposeFinishedEventSchema = z.looseObject({
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
