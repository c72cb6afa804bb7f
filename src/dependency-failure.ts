import type { ErrorCode, HttpCode } from "./error-codes.js";
import { ImporterError, permanentError } from "./errors.js";
import { storeUnavailable } from "./store/unavailable.js";

/**
 * SQLSTATEs of a database without the importer's schema, or with an older one: 42P01 undefined table, 42703
 * undefined column. Migrations fix both.
 */
const SCHEMA_MISSING_SQLSTATE = new Set(["42P01", "42703"]);

/** PostgreSQL down or absent, no schema, RabbitMQ down: the admin API answers each with 503 (src/error-codes.ts). */
const DEPENDENCY_CODES: ReadonlySet<ErrorCode> = new Set<HttpCode>([
  "STORE_UNAVAILABLE",
  "BROKER_UNAVAILABLE",
  "STORE_NOT_MIGRATED",
]);

const MIGRATE = "run `osbuild-koji-importer migrate`";

/** What an operator does about each dependency failure; said with the failure, on the CLI and over HTTP. */
function advice(error: ImporterError): string {
  if (error.code === "STORE_UNAVAILABLE") {
    return error.details.code === "3D000"
      ? `create the database or fix DATABASE_URL, then ${MIGRATE}`
      : "check that PostgreSQL is running and that DATABASE_URL points at it";
  }
  if (error.code === "BROKER_UNAVAILABLE")
    return "check that RabbitMQ is running and that AMQP_URL points at it";
  return MIGRATE;
}

/**
 * A failure of what the importer stands on (PostgreSQL down or absent, no schema yet, RabbitMQ down) as one
 * ImporterError whose message says what is wrong and what to do: the CLI prints it as its one line, the admin API
 * answers it with 503. Undefined for anything else.
 */
export function dependencyFailure(error: unknown): ImporterError | undefined {
  const known =
    error instanceof ImporterError
      ? DEPENDENCY_CODES.has(error.code)
        ? error
        : undefined
      : (storeUnavailable(error) ?? schemaMissing(error));
  if (!known) return undefined;
  const hint = advice(known);
  if (known.message.endsWith(hint)) return known;
  return new ImporterError(known.errorClass, known.code, `${known.message}: ${hint}`, {
    details: known.details,
    cause: known,
  });
}

function schemaMissing(error: unknown): ImporterError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (!(error instanceof Error) || typeof code !== "string" || !SCHEMA_MISSING_SQLSTATE.has(code))
    return undefined;
  return permanentError(
    "STORE_NOT_MIGRATED",
    `the database has no current importer schema (${error.message})`,
    {
      cause: error,
      details: { code },
    },
  );
}
