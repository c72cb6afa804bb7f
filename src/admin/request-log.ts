import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/** Probes and scrapes arrive every few seconds from every kubelet and Prometheus: debug level, not info. */
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/** The path alone: a query string may hold a token given there by mistake, and is never written. */
const pathOf = (request: FastifyRequest) => request.url.split("?", 1)[0] ?? "";

/**
 * The admin API's request log: one line per completed request with method, path (no query string), status and
 * time; headers (so tokens) never. Health and metrics requests are logged at debug only. Replaces fastify's own
 * request lines, which carry the whole URL.
 */
export class AdminRequestLog extends LogController {
  override incomingRequest(): void {
    // one line per request, when it completes
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const path = pathOf(request);
    const line = {
      method: request.method,
      path,
      status: reply.statusCode,
      response_time_ms: reply.elapsedTime,
    };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else if (QUIET_PATHS.has(path)) reply.log.debug(line, "request completed");
    else reply.log.info(line, "request completed");
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.info({ method: request.method, path: pathOf(request) }, "route not found");
  }
}
