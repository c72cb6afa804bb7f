/** The compose endpoints the fake serves, named as the client names them. */
export type FakeEndpoint = "status" | "logs" | "manifests" | "sboms" | "download";

/**
 * What can go wrong with one response. Each fault is served for the first `times` matching requests (default 1)
 * and then the compose answers normally again, so a test can show a retry succeeding.
 */
export type Fault =
  /** Any HTTP status with a composer Error body: 500 for the first N calls, 503, 429 with Retry-After, 404... */
  | { kind: "status"; status: number; retryAfter?: string }
  /** 401 although the token is valid: composer revoked or expired it early, so the client must renew. */
  | { kind: "unauthorized" }
  /** Waits `delayMs` before the headers, or between the first and second half of the body. */
  | { kind: "slow"; delayMs: number; phase?: "headers" | "body" }
  /** Announces the full Content-Length, sends half the body, then drops the connection. */
  | { kind: "truncated" }
  /** 200 with an HTML page, as a misrouted proxy would answer. */
  | { kind: "not-json" }
  /** 200 with well-formed JSON that breaks the Cloud API schema (a default per endpoint, or `body`). */
  | { kind: "schema-violation"; body?: unknown }
  /** Drops the connection before any response. */
  | { kind: "reset" };

export type FaultSpec = Fault & {
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /** Only this endpoint of the compose (default: any). */
  endpoint?: FakeEndpoint;
};

/** JSON that is well-formed but wrong where each endpoint's schema is most specific, at a known field path. */
export function schemaViolatingBody(endpoint: FakeEndpoint, composeId: string): unknown {
  const reference = { id: composeId, href: `/api/image-builder-composer/v2/composes/${composeId}` };
  switch (endpoint) {
    case "status":
      return { ...reference, kind: "ComposeStatus", status: "finished", image_status: { status: "success" } };
    case "logs":
      return { ...reference, kind: "ComposeLogs", image_builds: "all fine" };
    case "manifests":
      return { ...reference, kind: "ComposeManifests", manifests: { pipelines: [] } };
    case "sboms":
      return {
        ...reference,
        kind: "ComposeSBOMs",
        items: [[{ sbom: {}, sbom_type: "cyclonedx", pipeline_name: "os", pipeline_purpose: "image" }]],
      };
    case "download":
      return {};
  }
}

/** Where `schemaViolatingBody` breaks the schema, for tests that assert the reported field path. */
export const SCHEMA_VIOLATION_PATHS: Record<Exclude<FakeEndpoint, "download">, string> = {
  status: "status",
  logs: "image_builds",
  manifests: "manifests",
  sboms: "items[0][0].sbom_type",
};

export const NOT_JSON_BODY = "<html><body><h1>502 Bad Gateway</h1></body></html>\n";
