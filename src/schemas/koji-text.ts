import { z } from "zod";

/**
 * Rules for text Koji stores: names and versions in its database, file names on its disks, CG metadata in both.
 * A character that breaks there breaks only after a build is reserved (or in XML-RPC, naming no field), so it
 * is refused where the text comes in, with the field's name.
 */

/** Linux NAME_MAX: Koji keeps every output as a file, and no file name is longer (in bytes, UTF-8). */
export const NAME_MAX = 255;

/** A character that no Koji text may hold, described for the message; undefined when there is none. */
export function forbiddenCharacter(text: string): string | undefined {
  // Control characters (C0, DEL, C1), lone surrogates, and the two characters XML 1.0 cannot carry at all.
  const match = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u.exec(text);
  if (!match) return undefined;
  const code = (match[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0");
  const what = /\p{Cc}/u.test(match[0]) ? "a control character" : "a character Koji cannot store";
  return `must not contain ${what} (U+${code} at index ${match.index})`;
}

/** A string Koji will store: no control characters (NUL included), no lone surrogates. */
export function kojiText() {
  return z.string().superRefine((text, ctx) => {
    const problem = forbiddenCharacter(text);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** Koji's rules for a file name that becomes a path under the build (and upload) directory. */
export const KojiFilenameSchema = kojiText()
  .min(1)
  .refine((name) => !name.includes("/"), { message: "must not contain '/'" })
  .refine((name) => !name.startsWith("."), { message: "must not start with '.'" })
  .superRefine((name, ctx) => {
    const bytes = Buffer.byteLength(name);
    if (bytes > NAME_MAX) {
      ctx.addIssue({
        code: "custom",
        message: `is ${bytes} bytes long, over ${NAME_MAX} (NAME_MAX): Koji stores each output as a file, and no file name can be longer`,
      });
    }
  });
