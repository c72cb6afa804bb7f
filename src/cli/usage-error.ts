/** Wrong usage of a command: exit code 2 with the command's usage, as shells and scripts expect. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** Runs an argument parser; what it rejects becomes a UsageError (exit 2) with the command's usage. */
export function usageOnError<T>(usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message, usage);
  }
}
