import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { peekDeadLetters } from "../../queue/dead-letters/peek.js";
import { replayDeadLetters } from "../../queue/dead-letters/replay.js";
import type { AdminDeps } from "../deps.js";
import { HttpError } from "../errors.js";
import { createRouter } from "../route.js";

const DeadLetter = z.object({
  compose_id: z.string().nullable(),
  reason: z.string().nullable(),
  error_code: z.string().nullable(),
  error_class: z.string().nullable(),
  attempts: z.number().nullable(),
  first_death_at: z.string().nullable(),
  last_failure_at: z.string().nullable(),
  replayed: z.number(),
  message_id: z.string().nullable(),
});

const ReplayBody = z
  .object({
    compose_ids: z.array(z.uuid()).min(1).optional(),
    all: z.boolean().optional(),
    dry_run: z.boolean().default(false),
    limit: z.number().int().positive().optional(),
  })
  .refine((body) => body.all === true || body.compose_ids !== undefined, {
    message: "give compose_ids or all: true",
    path: ["compose_ids"],
  });

export async function deadLetterRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const route = createRouter(app, deps.docs, deps.auth);
  route(
    {
      method: "GET",
      url: "/v1/dead-letters",
      summary: "peek at dead-lettered messages; every message read is put back unchanged",
      access: "read",
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ items: z.array(DeadLetter) }),
      errors: [400, 401],
    },
    async ({ query }) => ({
      items: await deps.amqp.withChannel((channel) =>
        peekDeadLetters(channel, deps.names.deadLetterQueue, query.limit),
      ),
    }),
  );

  route(
    {
      method: "POST",
      url: "/v1/dead-letters/replay",
      summary:
        "move matching dead letters back to the work queue (confirmed before each ack); each reopens its failed import",
      access: "write",
      body: ReplayBody,
      response: z.object({ dry_run: z.boolean(), moved: z.array(DeadLetter) }),
      errors: [400, 401],
    },
    async ({ body }) => {
      if (body.all && body.compose_ids) {
        throw new HttpError(400, "INVALID_REQUEST", "invalid body.all: give compose_ids or all, not both", {
          field: "body.all",
        });
      }
      const moved = await deps.amqp.withChannel((channel) =>
        replayDeadLetters(channel, deps.names, {
          ...(body.compose_ids ? { composeIds: body.compose_ids } : {}),
          all: body.all === true,
          dryRun: body.dry_run,
          ...(body.limit ? { limit: body.limit } : {}),
        }),
      );
      deps.logger.info({ moved: moved.length, dry_run: body.dry_run }, "dead letters replayed");
      return { dry_run: body.dry_run, moved };
    },
  );
}
