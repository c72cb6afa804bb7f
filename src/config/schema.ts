import { z } from "zod";

/**
 * Every setting the service reads, with its environment variable name and default. The defaults are this
 * machine's (local PostgreSQL and RabbitMQ, the fakes' default ports) so `npm run demo` needs no setup;
 * production sets them all through the Helm chart.
 */

const durationPattern = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `10s`, `1m`, `500ms`, `1h` → milliseconds. */
export const Duration = z
  .string()
  .regex(durationPattern, "expected a duration such as 500ms, 10s, 1m or 1h")
  .transform((text) => {
    const [, amount, unit] = durationPattern.exec(text) as RegExpExecArray;
    return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  });

const DurationList = z
  .string()
  .transform((text) => text.split(",").map((part) => part.trim()))
  .pipe(z.array(Duration).min(1, "expected at least one delay"));

const Bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const Port = z.coerce.number().int().min(0).max(65535);
const PositiveInt = z.coerce.number().int().positive();

/** One Koji hub the importer may import into; an event naming any other hub is refused. */
export const KojiHubConfigSchema = z.discriminatedUnion("auth", [
  z.object({
    url: z.url(),
    auth: z.literal("ssl"),
    cert_file: z.string().min(1),
    key_file: z.string().min(1),
    ca_file: z.string().min(1).optional(),
  }),
  z.object({
    url: z.url(),
    auth: z.literal("gssapi"),
    principal: z.string().min(1),
    keytab_file: z.string().min(1),
    ca_file: z.string().min(1).optional(),
  }),
]);
export type KojiHubConfig = z.infer<typeof KojiHubConfigSchema>;

/** KOJI_HUBS: JSON text holding an array of hubs; a parse error is an issue of the variable, like any other. */
const KojiHubList = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.issues.push({ code: "custom", message: "not valid JSON", input: text });
      return z.NEVER;
    }
  })
  .pipe(z.array(KojiHubConfigSchema));

/** A URL whose scheme is one of `schemes`; the message never repeats the value (it may hold a password). */
function urlWithScheme(schemes: readonly string[]) {
  const expected = `expected a ${schemes.map((s) => `${s}//`).join(" or ")} URL`;
  return z
    .string()
    .min(1)
    .refine((text) => {
      try {
        return schemes.includes(new URL(text).protocol);
      } catch {
        return false;
      }
    }, expected);
}

export const EnvSchema = z
  .object({
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

    DATABASE_URL: urlWithScheme(["postgres:", "postgresql:"]).default(
      "postgres://postgres@127.0.0.1:5432/osbuild_koji_importer",
    ),
    DATABASE_POOL_SIZE: PositiveInt.default(10),
    MIGRATE_ON_START: Bool.default(false),

    AMQP_URL: urlWithScheme(["amqp:", "amqps:"]).default("amqp://guest:guest@127.0.0.1:5672"),
    AMQP_EXCHANGE: z.string().min(1).default("osbuild.composer.events"),
    AMQP_ROUTING_KEY: z.string().min(1).default("compose.finished"),
    AMQP_QUEUE: z.string().min(1).default("osbuild-koji-importer.compose-finished"),
    AMQP_PREFETCH: PositiveInt.default(8),
    /** A larger compose-finished event is dead-lettered unread (composer's are under 1 KiB). */
    MAX_EVENT_BYTES: PositiveInt.default(64 * 1024),
    /** Routing key of the import-result events published on AMQP_EXCHANGE. */
    AMQP_RESULT_ROUTING_KEY: z.string().min(1).default("koji.import.finished"),
    /** How long published import-result events stay in the outbox (status views show them) before pruning. */
    OUTBOX_RETENTION: Duration.default(7 * 24 * 3_600_000),
    /** One retry queue per delay; attempt n waits the n-th delay (the last repeats). */
    RETRY_DELAYS: DurationList.prefault("10s,1m,10m,1h"),
    /** Attempts before a retryable failure is dead-lettered anyway. */
    MAX_ATTEMPTS: PositiveInt.default(8),
    /**
     * How long an error the importer does not know (UNEXPECTED) is retried, counted in RETRY_DELAYS: it is
     * retried while the delays so far, with the next, add up to no more than this, then dead-lettered.
     */
    UNEXPECTED_RETRY_WINDOW: Duration.default(120_000),

    COMPOSER_URL: z.url().default("http://127.0.0.1:8701"),
    COMPOSER_AUTH: z.enum(["none", "oauth", "mtls"]).default("none"),
    COMPOSER_TOKEN_URL: z.url().optional(),
    COMPOSER_CLIENT_ID: z.string().min(1).optional(),
    COMPOSER_CLIENT_SECRET: z.string().min(1).optional(),
    COMPOSER_CERT_FILE: z.string().min(1).optional(),
    COMPOSER_KEY_FILE: z.string().min(1).optional(),
    COMPOSER_CA_FILE: z.string().min(1).optional(),
    COMPOSER_TIMEOUT: Duration.default(30_000),
    COMPOSER_MAX_RETRIES: z.coerce.number().int().min(0).default(3),

    /** JSON array of hubs (KojiHubConfigSchema), inline; KOJI_HUBS_FILE names a file holding the same. */
    KOJI_HUBS: KojiHubList.optional(),
    KOJI_CG_NAME: z.string().min(1).default("osbuild"),
    KOJI_MAX_METADATA_BYTES: PositiveInt.default(4 * 1024 * 1024),
    KOJI_TIMEOUT: Duration.default(120_000),
    /** How long a missing or short upload is waited for (hub replicas can lag) before it is permanent. */
    UPLOAD_WAIT: Duration.default(600_000),
    /** CGImport alone: the hub reads every output again to check its checksum before it answers. */
    KOJI_IMPORT_TIMEOUT: Duration.default(1_800_000),

    ADMIN_HOST: z.string().min(1).default("0.0.0.0"),
    ADMIN_PORT: Port.default(8080),
    ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    /** `open`: read routes need no token; `token`: every route needs the bearer token. */
    ADMIN_READ_AUTH: z.enum(["open", "token"]).default("open"),
    /** `/metrics` alone: `open` for a Prometheus inside the NetworkPolicy, `token` when it sends ADMIN_TOKEN. */
    ADMIN_METRICS_AUTH: z.enum(["open", "token"]).default("open"),

    /** OpenTelemetry traces go to this OTLP/HTTP collector; unset, none are recorded (the SDK's own variable). */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),

    /** After SIGTERM, how long imports in flight may take to finish their current step before the process closes. */
    SHUTDOWN_TIMEOUT: Duration.default(20_000),
  })
  .superRefine(
    (env, ctx) => {
      // Cross-field rules. They run even when another variable failed (`when`), so one pass reports every problem;
      // they read only values that parsed, so a value another issue already names is not reported twice.
      const required = (name: keyof typeof env, why: string) => {
        if (env[name] === undefined)
          ctx.addIssue({ code: "custom", path: [name], message: `required when ${why}` });
      };
      if (env.COMPOSER_AUTH === "oauth") {
        for (const name of ["COMPOSER_TOKEN_URL", "COMPOSER_CLIENT_ID", "COMPOSER_CLIENT_SECRET"] as const)
          required(name, "COMPOSER_AUTH=oauth");
      }
      if (env.COMPOSER_AUTH === "mtls") {
        for (const name of ["COMPOSER_CERT_FILE", "COMPOSER_KEY_FILE"] as const)
          required(name, "COMPOSER_AUTH=mtls");
      }
      if (env.ADMIN_READ_AUTH === "token") required("ADMIN_TOKEN", "ADMIN_READ_AUTH=token");
      if (env.ADMIN_METRICS_AUTH === "token") required("ADMIN_TOKEN", "ADMIN_METRICS_AUTH=token");
    },
    { when: () => true },
  );

export type Env = z.infer<typeof EnvSchema>;

/** Variables that are secrets: each may instead come from `<NAME>_FILE`, and none is ever logged. */
export const SECRET_VARIABLES = [
  "DATABASE_URL",
  "AMQP_URL",
  "COMPOSER_CLIENT_SECRET",
  "ADMIN_TOKEN",
  "KOJI_HUBS",
] as const;
