import { readFile } from "node:fs/promises";
import { permanentError } from "../errors.js";

/** Reads a JSON input file; a missing or malformed file is an input error that names the file. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw permanentError(
      "INPUT_UNREADABLE",
      `${path}: ${(error as NodeJS.ErrnoException).code ?? "cannot read"}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw permanentError("INPUT_NOT_JSON", `${path}: not JSON (${(error as Error).message})`);
  }
}
