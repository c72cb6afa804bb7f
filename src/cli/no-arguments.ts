import { parseArgs } from "node:util";
import { usageOnError } from "./usage-error.js";

/** The service commands take no arguments (the configuration is the environment): anything else is a usage error. */
export function noArguments(argv: string[], usage: string): void {
  usageOnError(usage, () => parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false }));
}
