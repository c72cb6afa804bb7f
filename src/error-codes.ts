/**
 * Every error code the importer gives, in one table. A code is a metric label (`importer_retries_total{code}`,
 * `importer_dead_lettered_total{code}`, ...), a dead letter's `x-error-code` header, the key of an alert and of
 * `dlq replay --code`, and the `error` of an admin API answer, so it is stable: renaming one breaks dashboards.
 *
 * For each code: the area it comes from, its class, the HTTP status when the admin API answers with it, and what
 * it means. The class is what the code's errors always carry, or `per-instance` where one code covers both (an HTTP
 * status or a Koji fault decides each time); `permanentError` and `retryableError` accept only codes of their
 * class, so this table cannot claim a class the code does not have. The README's "Error codes" table is checked
 * against this one by test/docs/readme.test.ts.
 */

/** `per-instance`: the same code is retryable or permanent depending on what happened; the error says which. */
export type CodeClass = "retryable" | "permanent" | "per-instance";

type Area = "event" | "composer" | "compose" | "koji" | "store" | "broker" | "pipeline" | "operator";

interface CodeInfo {
  area: Area;
  class: CodeClass;
  /** The admin API's status when it answers with this code; absent when the API never answers with it. */
  http?: number;
  /** One line for the README and for whoever meets the code in a dead letter. */
  meaning: string;
}

export const ERROR_CODES = {
  // The compose-finished event: all permanent, the same bytes fail the same way (dead-lettered on attempt 1).
  EVENT_TOO_LARGE: {
    area: "event",
    class: "permanent",
    meaning: "the event is larger than MAX_EVENT_BYTES; not read",
  },
  EVENT_TOO_DEEP: {
    area: "event",
    class: "permanent",
    meaning: "the event is nested deeper than 32 levels; not parsed",
  },
  EVENT_NOT_JSON: { area: "event", class: "permanent", meaning: "the event is not JSON" },
  EVENT_UNSUPPORTED_VERSION: {
    area: "event",
    class: "permanent",
    meaning: "the event's version is not one this importer reads",
  },
  EVENT_INVALID: {
    area: "event",
    class: "permanent",
    meaning: "the event breaks its schema; details.field names the first wrong field",
  },
  EVENT_NOT_KOJI: {
    area: "event",
    class: "permanent",
    meaning: "`publish` or `assemble` was given an event without a koji section",
  },

  // composer's Cloud API.
  COMPOSER_HTTP: {
    area: "composer",
    class: "per-instance",
    meaning: "composer answered an HTTP error (details.status): 429 and 5xx retryable, other 4xx permanent",
  },
  COMPOSER_AUTH: {
    area: "composer",
    class: "permanent",
    meaning: "composer or its token endpoint refused our credentials, even after a fresh token",
  },
  COMPOSER_INVALID_RESPONSE: {
    area: "composer",
    class: "permanent",
    meaning: "a composer answer is not JSON, too large, or breaks the Cloud API schema (the field is named)",
  },
  COMPOSER_NOT_FINISHED: {
    area: "composer",
    class: "retryable",
    meaning: "the compose is still pending in composer; asked again later",
  },
  COMPOSER_UNREACHABLE: {
    area: "composer",
    class: "retryable",
    meaning: "no connection to composer, or it broke (refused, reset, closed mid-body)",
  },
  COMPOSER_TIMEOUT: {
    area: "composer",
    class: "retryable",
    meaning: "composer did not connect, answer or send its body in time",
  },
  COMPOSER_TLS: {
    area: "composer",
    class: "permanent",
    meaning:
      "the TLS handshake with composer failed for good (a name or CA mismatch, our certificate refused); the configuration must change",
  },
  COMPOSER_TLS_CERT_VALIDITY: {
    area: "composer",
    class: "retryable",
    meaning:
      "composer's certificate, or ours, has expired or is not yet valid; logged with alert tls_certificate_validity while an operator renews it",
  },
  COMPOSER_ABORTED: {
    area: "composer",
    class: "retryable",
    meaning: "a composer request was abandoned because the worker is stopping",
  },

  // What composer made.
  COMPOSE_FAILED: {
    area: "compose",
    class: "permanent",
    meaning: "composer reports the compose failed; recorded, composer's reservation refunded",
  },
  COMPOSE_NOT_IMPORTABLE: {
    area: "compose",
    class: "permanent",
    meaning:
      "the compose cannot be a Koji build (no image builds, a failed Koji upload, a CG document Koji refuses)",
  },

  // The Koji hub.
  KOJI_FAULT: {
    area: "koji",
    class: "per-instance",
    meaning:
      "the hub answered with a fault (details.faultName): retryable for LockError, ServerOffline and the like",
  },
  KOJI_HTTP_STATUS: {
    area: "koji",
    class: "per-instance",
    meaning: "the hub or its front end answered HTTP != 200 (details.status): 408, 429 and 5xx retryable",
  },
  KOJI_UNREACHABLE: {
    area: "koji",
    class: "retryable",
    meaning:
      "no connection to the hub (refused, no route, DNS, connect timeout); it cannot have seen the request",
  },
  KOJI_TRANSPORT: {
    area: "koji",
    class: "retryable",
    meaning: "a request to the hub failed after it may have left (reset, timeout)",
  },
  KOJI_TLS: {
    area: "koji",
    class: "permanent",
    meaning:
      "the TLS handshake with the hub failed for good (a name or CA mismatch, our certificate refused); the configuration must change",
  },
  KOJI_TLS_CERT_VALIDITY: {
    area: "koji",
    class: "retryable",
    meaning:
      "the hub's certificate, or ours, has expired or is not yet valid; logged with alert tls_certificate_validity while an operator renews it",
  },
  KOJI_TLS_FILES: {
    area: "koji",
    class: "permanent",
    meaning: "a hub's certificate, key or CA file cannot be read",
  },
  KOJI_RESPONSE_TOO_LARGE: {
    area: "koji",
    class: "permanent",
    meaning: "a hub reply is larger than any Koji reply should be",
  },
  KOJI_INVALID_RESPONSE: {
    area: "koji",
    class: "permanent",
    meaning: "a hub reply breaks the schema of its call (the field is named)",
  },
  KOJI_XMLRPC_MALFORMED: { area: "koji", class: "permanent", meaning: "a hub reply is not valid XML-RPC" },
  KOJI_XMLRPC_UNENCODABLE: {
    area: "koji",
    class: "permanent",
    meaning: "a call's arguments cannot be put in XML-RPC (a bug)",
  },
  KOJI_COMMIT_UNCERTAIN: {
    area: "koji",
    class: "retryable",
    meaning:
      "a committing call may have reached the hub before it failed; the retry asks Koji before it resends",
  },
  KOJI_GSSAPI_UNAVAILABLE: {
    area: "koji",
    class: "permanent",
    meaning: "a gssapi hub is configured but the optional kerberos package is missing or unusable",
  },
  KOJI_GSSAPI_FAILED: {
    area: "koji",
    class: "retryable",
    meaning: "no Kerberos ticket could be had from the keytab (usually the KDC is out of reach)",
  },
  KOJI_GSSAPI_REFUSED: {
    area: "koji",
    class: "permanent",
    meaning: "the hub refused our Kerberos login (HTTP 401 on /ssllogin)",
  },
  KOJI_CLOSED: {
    area: "koji",
    class: "retryable",
    meaning: "the hub connections are closed because the worker is stopping",
  },
  KOJI_UNKNOWN_HUB: {
    area: "koji",
    class: "permanent",
    meaning: "the event names a hub that KOJI_HUBS does not configure",
  },
  KOJI_PREFLIGHT: {
    area: "koji",
    class: "permanent",
    meaning: "the hub would refuse the CG document (archive type, arch, checksum type, request size)",
  },
  KOJI_NVR_CONFLICT: {
    area: "koji",
    class: "permanent",
    meaning: "Koji has a build of this NVR that this import did not make",
  },
  KOJI_UPLOAD_PENDING: {
    area: "koji",
    class: "retryable",
    meaning: "outputs are not (all) in the upload directory yet; waited for up to UPLOAD_WAIT",
  },
  KOJI_UPLOAD_MISSING: {
    area: "koji",
    class: "permanent",
    meaning: "outputs still missing from the upload directory after UPLOAD_WAIT",
  },
  KOJI_UPLOADS_CONSUMED: {
    area: "koji",
    class: "permanent",
    meaning: "a failed CGImport moved the uploads away; they must be uploaded again",
  },
  KOJI_IMPORT_IN_PROGRESS: {
    area: "koji",
    class: "retryable",
    meaning: "an earlier CGImport of this reservation may still be running on the hub; waited for",
  },

  // PostgreSQL.
  STORE_UNAVAILABLE: {
    area: "store",
    class: "retryable",
    http: 503,
    meaning: "PostgreSQL cannot be reached or is going away; the event goes back without spending an attempt",
  },
  STORE_NOT_MIGRATED: {
    area: "store",
    class: "permanent",
    http: 503,
    meaning: "the database has no current importer schema; run `osbuild-koji-importer migrate`",
  },
  STORE_STATE_CONFLICT: {
    area: "store",
    class: "permanent",
    meaning: "the import is not in the state a step expects; another worker or an operator changed it",
  },
  STORE_ROW_VANISHED: {
    area: "store",
    class: "retryable",
    meaning: "the import's row was deleted while the event was being handled; the retry records it anew",
  },

  // RabbitMQ.
  BROKER_UNAVAILABLE: {
    area: "broker",
    class: "retryable",
    http: 503,
    meaning: "RabbitMQ cannot be reached, or did not take a re-queued event",
  },
  AMQP_PUBLISH_NACKED: {
    area: "broker",
    class: "retryable",
    meaning: "the broker refused (nacked) a publish",
  },
  AMQP_CHANNEL_CLOSED: {
    area: "broker",
    class: "retryable",
    meaning: "a publish found its channel closed",
  },
  AMQP_CONFIRM_TIMEOUT: {
    area: "broker",
    class: "retryable",
    meaning: "the broker did not confirm an import-result event in time; it stays in the outbox",
  },

  // The pipeline itself.
  IMPORT_BUSY: {
    area: "pipeline",
    class: "retryable",
    meaning: "another worker is importing this compose right now",
  },
  IMPORT_NVR_CONFLICT: {
    area: "pipeline",
    class: "permanent",
    meaning: "this NVR was imported already, from another compose",
  },
  IMPORT_FAILED: {
    area: "pipeline",
    class: "per-instance",
    meaning:
      "a failure recorded without a code this version knows, dead-lettered again or published as it was recorded",
  },
  SHUTTING_DOWN: {
    area: "pipeline",
    class: "retryable",
    meaning: "the worker is stopping; the event goes back for another worker without spending an attempt",
  },
  UNEXPECTED: {
    area: "pipeline",
    class: "retryable",
    meaning:
      "an error the importer did not classify (a bug, or an unknown library failure); retried only within UNEXPECTED_RETRY_WINDOW",
  },

  // The operator's tools: the CLI, the admin API, the configuration.
  CONFIG_INVALID: {
    area: "operator",
    class: "permanent",
    meaning: "the configuration is refused (exit 78, one line per problem)",
  },
  INVALID_INPUT: {
    area: "operator",
    class: "permanent",
    meaning: "a file given to the CLI breaks its schema (the field is named)",
  },
  INPUT_UNREADABLE: {
    area: "operator",
    class: "permanent",
    meaning: "a file given to the CLI cannot be read",
  },
  INPUT_NOT_JSON: { area: "operator", class: "permanent", meaning: "a file given to the CLI is not JSON" },
  INPUT_INVALID: {
    area: "operator",
    class: "permanent",
    meaning: "a file given to `reproduce` is not a Koji build with image metadata",
  },
  PUBLISH_FAILED: {
    area: "operator",
    class: "permanent",
    meaning: "`publish` could not publish the event (the exchange is missing)",
  },
  PUBLISH_UNROUTED: {
    area: "operator",
    class: "permanent",
    meaning: "`publish` found no queue bound for the event; it was dropped",
  },
  NOT_FOUND: {
    area: "operator",
    class: "permanent",
    http: 404,
    meaning: "no such import, route, image or dead letter",
  },
  CONFLICT: {
    area: "operator",
    class: "permanent",
    http: 409,
    meaning: "a retry of an import that is not failed or refunded",
  },
  INVALID_REQUEST: {
    area: "operator",
    class: "permanent",
    http: 400,
    meaning:
      "an admin API request breaks its schema (the field is named); fastify's own refusals keep their 4xx",
  },
  UNAUTHORIZED: {
    area: "operator",
    class: "permanent",
    http: 401,
    meaning: "a missing or wrong bearer token, or ADMIN_TOKEN not configured",
  },
  INTERNAL: {
    area: "operator",
    class: "retryable",
    http: 500,
    meaning:
      "an admin API request failed in a way the API does not name (as UNEXPECTED); the service log has it",
  },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

type Codes<Having> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C] extends Having ? C : never;
}[ErrorCode];

/** Codes a retryable error may carry. */
export type RetryableCode = Codes<{ class: "retryable" | "per-instance" }>;
/** Codes a permanent error may carry. */
export type PermanentCode = Codes<{ class: "permanent" | "per-instance" }>;
/** Codes the admin API answers with, each with its status. */
export type HttpCode = Codes<{ http: number }>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

export function httpStatusOf(code: HttpCode): number {
  return ERROR_CODES[code].http;
}

/** A failure of the importer's own database, not of what the pipeline was doing when it met it. */
export function isStoreFailure(code: ErrorCode): boolean {
  return ERROR_CODES[code].area === "store";
}
