/** Wrong usage of a command: exit code 2 with the command's usage, as shells and scripts expect. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}
