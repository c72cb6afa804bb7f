import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { peekDeadLetters } from "../../queue/dead-letters/peek.js";
import type { DeadLetterSelection } from "../../queue/dead-letters/select.js";
import {
  actionAnswer,
  actOnDeadLetters,
  type DeadLetterAction,
  unmatchedMessage,
} from "../dead-letter-actions.js";
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
  body: z.string().describe("the message as UTF-8 text; its first 64 KiB when body_truncated"),
  body_bytes: z.number().int(),
  body_truncated: z.boolean(),
});

/** Exactly one of compose_ids, code, all: true picks the dead letters. */
const Selection = z.object({
  compose_ids: z.array(z.uuid()).min(1).optional(),
  code: z.string().min(1).optional(),
  all: z.literal(true).optional(),
});

function selectionOf(body: z.infer<typeof Selection>): DeadLetterSelection {
  const given = [body.compose_ids, body.code, body.all].filter((part) => part !== undefined).length;
  if (given !== 1) {
    throw new HttpError("INVALID_REQUEST", "invalid body.compose_ids: give one of compose_ids, code, all", {
      field: "body.compose_ids",
    });
  }
  if (body.all) return { all: true };
  if (body.code) return { code: body.code };
  return { composeIds: body.compose_ids ?? [] };
}

const ReplayBody = Selection.extend({
  dry_run: z.boolean().default(false),
  limit: z.number().int().positive().optional(),
});

const DropBody = Selection.extend({
  dry_run: z.boolean().default(false),
  /** Nothing is removed without it: the CLI's --yes. */
  confirm: z.literal(true, { message: "must be true to remove dead letters (or use dry_run)" }).optional(),
});

export async function deadLetterRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const route = createRouter(app, deps.docs, deps.auth);

  const act = async (
    action: DeadLetterAction,
    selection: DeadLetterSelection,
    options: { dryRun: boolean; limit?: number },
  ) => {
    const result = await actOnDeadLetters(deps.amqp, deps.names, action, selection, {
      ...options,
      logger: deps.logger,
    });
    if (result.outcome === "unmatched") {
      throw new HttpError("NOT_FOUND", unmatchedMessage(selection, result.missing), {
        unmatched: result.missing,
      });
    }
    return actionAnswer(action, result.dryRun, result.items);
  };

  route(
    {
      method: "GET",
      url: "/v1/dead-letters",
      summary: "peek at dead-lettered messages with their bodies; every message read is put back unchanged",
      access: "read",
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ items: z.array(DeadLetter) }),
      errors: [400, 401, 503],
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
        "move the dead letters of compose_ids, of one error code, or all back to the work queue (confirmed before each ack); each reopens its failed import. 404 when a compose id or code matches none",
      access: "write",
      body: ReplayBody,
      response: z.object({
        dry_run: z.boolean(),
        moved: z.array(DeadLetter).optional(),
        would_move: z.array(DeadLetter).optional(),
      }),
      errors: [400, 401, 404, 503],
    },
    async ({ body }) =>
      act("replay", selectionOf(body), {
        dryRun: body.dry_run,
        ...(body.limit ? { limit: body.limit } : {}),
      }),
  );

  route(
    {
      method: "POST",
      url: "/v1/dead-letters/drop",
      summary:
        "remove poison dead letters of compose_ids or of one error code for good, each logged in full first; needs confirm: true (or dry_run). 404 when a compose id or code matches none",
      access: "write",
      body: DropBody,
      response: z.object({
        dry_run: z.boolean(),
        dropped: z.array(DeadLetter).optional(),
        would_drop: z.array(DeadLetter).optional(),
      }),
      errors: [400, 401, 404, 503],
    },
    async ({ body }) => {
      const selection = selectionOf(body);
      if ("all" in selection) {
        throw new HttpError(
          "INVALID_REQUEST",
          "invalid body.all: drop takes compose_ids or code, never all",
          {
            field: "body.all",
          },
        );
      }
      if (!body.dry_run && body.confirm !== true) {
        throw new HttpError(
          "INVALID_REQUEST",
          "invalid body.confirm: must be true to remove dead letters (or use dry_run)",
          { field: "body.confirm" },
        );
      }
      return act("drop", selection, { dryRun: body.dry_run });
    },
  );
}
