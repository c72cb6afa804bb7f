import type { ConfirmChannel, GetMessage } from "amqplib";
import { composeIdOf, type DeadLetterSummary, describeDeadLetter } from "./describe.js";

const EMPTY = Buffer.alloc(0);

/** Which dead letters an operator means: every one, those of some composes, or those failed with one code. */
export type DeadLetterSelection = { all: true } | { composeIds: readonly string[] } | { code: string };

export function selects(selection: DeadLetterSelection, message: GetMessage): boolean {
  if ("all" in selection) return true;
  if ("composeIds" in selection) return selection.composeIds.includes(composeIdOf(message) ?? "");
  const code = message.properties.headers?.["x-error-code"];
  return (Buffer.isBuffer(code) ? code.toString("utf8") : String(code ?? "")) === selection.code;
}

export interface TakeOptions {
  limit?: number;
  /** Nothing is taken: every selected message is put back and reported. */
  dryRun?: boolean;
  /** Done with each selected message before it is acked (publish a confirmed copy, log it in full). */
  act: (message: GetMessage) => Promise<void>;
  /** Called after each message is acked, with the count so far; tests use it to stop half-way. */
  onTaken?: (taken: number) => void;
}

/**
 * Visits the dead letters present at the start (the loop ends even while new ones arrive), takes the selected
 * ones (each acked only after `act` resolved, so a crash leaves it in the queue, never lost) and puts every other
 * message back unchanged.
 */
export async function takeDeadLetters(
  channel: ConfirmChannel,
  queue: string,
  selection: DeadLetterSelection,
  options: TakeOptions,
): Promise<DeadLetterSummary[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const { messageCount } = await channel.checkQueue(queue);
  const kept: GetMessage[] = [];
  const taken: DeadLetterSummary[] = [];
  try {
    for (let visited = 0; visited < messageCount && taken.length < limit; visited++) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) break;
      const selected = selects(selection, message);
      if (selected) taken.push(describeDeadLetter(message));
      if (!selected || options.dryRun) {
        // Only what nack reads: the bodies of a long queue of large letters are not held until the end.
        kept.push({ fields: message.fields, properties: message.properties, content: EMPTY });
        continue;
      }
      await options.act(message);
      channel.ack(message);
      options.onTaken?.(taken.length);
    }
  } finally {
    for (const message of kept) channel.nack(message, false, true);
  }
  return taken;
}

/** The part of a selection that matched no dead letter: compose ids not found, or a code nothing failed with. */
export function unmatched(selection: DeadLetterSelection, found: readonly DeadLetterSummary[]): string[] {
  if ("composeIds" in selection) {
    const seen = new Set(found.map((letter) => letter.compose_id));
    return selection.composeIds.filter((id) => !seen.has(id));
  }
  if ("code" in selection && found.length === 0) return [selection.code];
  return [];
}
