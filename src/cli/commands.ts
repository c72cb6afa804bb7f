/**
 * The CLI's commands: name → module. Each module exports `summary` (one line for the command list), `usage`
 * (what `<command> --help` prints) and `run(argv): Promise<number>` returning the exit code. Modules load lazily
 * so `assemble` never pays for pg or amqplib.
 */
export interface CommandModule {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  assemble: () => import("./assemble.js"),
  reproduce: () => import("./reproduce.js"),
  worker: () => import("./worker.js"),
  migrate: () => import("./migrate.js"),
  serve: () => import("./serve.js"),
  start: () => import("./start.js"),
  status: () => import("./status.js"),
  imports: () => import("./imports.js"),
  dlq: () => import("./dlq.js"),
  retry: () => import("./retry.js"),
  publish: () => import("./publish.js"),
};
