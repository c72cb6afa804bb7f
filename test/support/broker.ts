import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Closes, from the broker's side, every connection whose client named itself `name`: what a broker restart or
 * a network cut looks like to the importer, without touching other test files' connections on the shared broker.
 * (rabbitmqctl's JSON output prints pids in a form close_connection does not take, hence the plain listing.)
 */
export async function closeConnectionsNamed(name: string): Promise<number> {
  const { stdout } = await run("rabbitmqctl", [
    "list_connections",
    "pid",
    "client_properties",
    "-q",
    "--no-table-headers",
  ]);
  const pids = stdout
    .split("\n")
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split("\t")[0] as string);
  for (const pid of pids) await run("rabbitmqctl", ["close_connection", pid, "test: simulated broker loss"]);
  return pids.length;
}
