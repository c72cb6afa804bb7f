import { ComposeLogsSchema } from "../../schemas/composer.js";
import { saveFetched } from "../../store/save-fetched.js";
import { advance, type ImportContext } from "../context.js";

/**
 * Step 2: what composer reports about the compose. A compose still `pending` fails retryable
 * (COMPOSER_NOT_FINISHED, from the client): the event came early, composer will catch up.
 */
export async function fetchCompose(ctx: ImportContext): Promise<void> {
  const [status, logs, manifests] = await Promise.all([
    ctx.composer.getComposeStatus(ctx.composeId),
    ctx.composer.getComposeLogs(ctx.composeId),
    ctx.composer.getComposeManifests(ctx.composeId),
  ]);
  advance(ctx, await saveFetched(ctx.db, ctx.composeId, { status, logs, manifests }, ctx.stepLog), {
    compose_status: status,
    compose_logs: logs,
    compose_manifests: manifests,
  });
}

/** Composer's own CGInitBuild reservation, when its koji-init job made one. */
export function composerReservation(ctx: ImportContext): { buildId: number; token: string } | undefined {
  const init = ComposeLogsSchema.parse(ctx.row.compose_logs).koji?.init;
  if (init?.build_id && init.build_id > 0 && init.token) return { buildId: init.build_id, token: init.token };
  return undefined;
}
