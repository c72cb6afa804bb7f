#!/usr/bin/env node
import { COMMANDS } from "./cli/commands.js";
import { UsageError } from "./cli/usage-error.js";
import { ConfigError, EX_CONFIG } from "./config/load.js";
import { dependencyFailure } from "./dependency-failure.js";
import { ImporterError } from "./errors.js";
import { VERSION } from "./version.js";

async function help(): Promise<string> {
  const lines = [
    "usage: osbuild-koji-importer <command> [options]",
    "       osbuild-koji-importer <command> --help | --version",
    "",
    "commands:",
  ];
  for (const [name, load] of Object.entries(COMMANDS))
    lines.push(`  ${name.padEnd(12)} ${(await load()).summary}`);
  return lines.join("\n");
}

const asksForHelp = (args: readonly string[]) => args.includes("--help") || args.includes("-h");

/** One line for stderr: what failed and, for a dependency, what to do. Never a stack trace. */
function oneLine(error: unknown): string {
  const known = dependencyFailure(error) ?? (error instanceof ImporterError ? error : undefined);
  if (known) return known.message;
  return `unexpected error: ${error instanceof Error ? error.message || error.name : String(error)}`;
}

/**
 * Exit codes: 0 done, 1 the input, an operation or a dependency failed (one line on stderr), 2 wrong usage, 78
 * (EX_CONFIG) the configuration is refused (one line per problem).
 */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${await help()}\n`);
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`unknown command: ${name}\n${await help()}\n`);
    return 2;
  }
  const command = await load();
  // --help is answered before the command runs: it reads no configuration and opens no connection.
  if (asksForHelp(rest)) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${error.message}\n${error.usage}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`${name}: configuration: ${problem}\n`);
      return EX_CONFIG;
    }
    process.stderr.write(`${name}: ${oneLine(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${oneLine(error)}\n`);
    process.exitCode = 1;
  },
);
