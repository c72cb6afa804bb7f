#!/usr/bin/env node
import { COMMANDS } from "./cli/commands.js";
import { UsageError } from "./cli/usage-error.js";
import { ConfigError, EX_CONFIG } from "./config/load.js";
import { ImporterError } from "./errors.js";

async function help(): Promise<string> {
  const lines = ["usage: osbuild-koji-importer <command> [options]", "", "commands:"];
  for (const [name, load] of Object.entries(COMMANDS))
    lines.push(`  ${name.padEnd(12)} ${(await load()).summary}`);
  return lines.join("\n");
}

/**
 * Exit codes: 0 done, 1 the input or an operation failed (one line on stderr), 2 wrong usage, 78 (EX_CONFIG) the
 * configuration is refused (one line per problem).
 */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${await help()}\n`);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`unknown command: ${name}\n${await help()}\n`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${error.message}\n${error.usage}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`${name}: configuration: ${problem}\n`);
      return EX_CONFIG;
    }
    if (error instanceof ImporterError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
