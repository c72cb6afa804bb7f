import { assembleCgMetadata } from "../../core/assemble.js";
import { saveAssembled } from "../../store/save-assembled.js";
import { advance, type ImportContext } from "../context.js";
import { storedLogs } from "../stored-documents.js";

/** Step 4: the CG document from composer's logs (pure core), stored with one row per output. */
export async function assembleDocument(ctx: ImportContext): Promise<void> {
  const logs = storedLogs(ctx);
  const document = assembleCgMetadata({ event: ctx.event, logs });
  advance(ctx, await saveAssembled(ctx.db, ctx.composeId, document, ctx.stepLog), { cg_metadata: document });
}
