/**
 * Limits on JSON from outside, checked on the text before JSON.parse builds anything: a value nested a hundred
 * thousand levels deep parses, but every recursive walk after it (zod, JSON.stringify, PostgreSQL's own jsonb
 * parser) runs out of stack on it.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when the JSON text nests arrays and objects deeper than `maxDepth` (`{}` is depth 1). Brackets inside
 * strings do not count. Linear and allocation-free; malformed text is left to JSON.parse to report.
 */
export function nestedDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** Where PostgreSQL's jsonb cannot store a string: the NUL character, and a surrogate without its pair. */
function unstorable(text: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find NUL
  if (/\u0000/.test(text)) return "a NUL character (U+0000)";
  if (/\p{Cs}/u.test(text)) return "a lone surrogate (not Unicode)";
  return undefined;
}

/**
 * The first string or key of a parsed JSON value that PostgreSQL's jsonb cannot hold, as `path` and `problem`;
 * undefined when every one is storable. Walks with a stack of its own, so depth costs no call stack.
 */
export function findUnstorableText(value: unknown): { path: PropertyKey[]; problem: string } | undefined {
  const pending: Array<{ value: unknown; path: PropertyKey[] }> = [{ value, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value: current, path } = next;
    if (typeof current === "string") {
      const problem = unstorable(current);
      if (problem) return { path, problem };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push({ value: current[i], path: [...path, i] });
    } else if (typeof current === "object" && current !== null) {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const problem = unstorable(key);
        if (problem) return { path: [...path, key], problem: `${problem} in its key` };
        pending.push({ value: (current as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return undefined;
}
