import { saveFetched } from "../../store/save-fetched.js";
import { advance, type ImportContext } from "../context.js";
import { storedLogs } from "../stored-documents.js";

/**
 * Step 2: what composer reports about the compose. The status comes first: a compose still `pending` fails
 * retryable (COMPOSER_NOT_FINISHED, from the client), and its other answers are incomplete (composer lists a
 * manifest not made yet as null), so reading them alongside could turn "ask again later" into a permanent bad
 * response. A failed compose's manifests are not needed: one whose manifest job failed lists null there too,
 * so they are kept when composer gives them and left out when it cannot.
 */
export async function fetchCompose(ctx: ImportContext): Promise<void> {
  const status = await ctx.composer.getComposeStatus(ctx.composeId, { signal: ctx.signal });
  const failed = status.status === "failure" || ctx.event.status === "failure";
  const [logs, manifests] = await Promise.all([
    ctx.composer.getComposeLogs(ctx.composeId, { signal: ctx.signal }),
    failed
      ? ctx.composer.getComposeManifests(ctx.composeId, { signal: ctx.signal }).catch((error: unknown) => {
          ctx.logger.info({ err: error }, "no manifests for the failed compose; going on without");
          return null;
        })
      : ctx.composer.getComposeManifests(ctx.composeId, { signal: ctx.signal }),
  ]);
  advance(ctx, await saveFetched(ctx.db, ctx.composeId, { status, logs, manifests }, ctx.stepLog), {
    compose_status: status,
    compose_logs: logs,
    compose_manifests: manifests,
  });
}

/** Composer's own CGInitBuild reservation, when its koji-init job made one. */
export function composerReservation(ctx: ImportContext): { buildId: number; token: string } | undefined {
  const init = storedLogs(ctx).koji?.init;
  if (init?.build_id && init.build_id > 0 && init.token) return { buildId: init.build_id, token: init.token };
  return undefined;
}
