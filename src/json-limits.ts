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
 * strings do not count. Linear and allocation-free; malformed text is left to JSON.parse to report. A string is
 * skipped with indexOf to its closing quote rather than walked a character at a time: composer's answers are
 * mostly string (osbuild's logs), and that made this check several times faster on them.
 */
export function nestedDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends the string opened at `open`, or -1 when it never ends. */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at >= 0; at = text.indexOf('"', at + 1)) {
    // Escaped when an odd number of backslashes precede it. They lie after `open`, so the walk back is bounded
    // by the forward one: linear overall.
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

/**
 * What PostgreSQL's jsonb cannot store in a string: the NUL character, and a surrogate without its pair (`u`: a
 * surrogate in a pair is part of its code point and does not match).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find NUL
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/** What in `text` jsonb cannot store, described (the NUL when it holds both); undefined when nothing. */
function unstorable(text: string): string | undefined {
  if (!UNSTORABLE.test(text)) return undefined;
  return text.includes("\u0000") ? "a NUL character (U+0000)" : "a lone surrogate (not Unicode)";
}

/**
 * True when some string or key of a parsed JSON value holds a character jsonb cannot store. No paths are kept:
 * this is the walk every answer from composer takes, and on a large one (4 image builds of 2 000 RPMs) building a
 * path for each of its hundred thousand values cost five times the test itself.
 */
function holdsUnstorableText(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === "string") {
      if (UNSTORABLE.test(current)) return true;
    } else if (Array.isArray(current)) {
      for (const item of current) pending.push(item);
    } else if (typeof current === "object" && current !== null) {
      for (const key of Object.keys(current)) {
        if (UNSTORABLE.test(key)) return true;
        pending.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * The first string or key of a parsed JSON value that PostgreSQL's jsonb cannot hold, as `path` and `problem`;
 * undefined when every one is storable. Walks with a stack of its own, so depth costs no call stack. The paths
 * are built only once a quick walk found that there is something to report.
 */
export function findUnstorableText(value: unknown): { path: PropertyKey[]; problem: string } | undefined {
  if (!holdsUnstorableText(value)) return undefined;
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
