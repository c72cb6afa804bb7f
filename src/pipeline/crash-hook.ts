/**
 * Crash-safety tests kill a real worker process right after a named point (OKI_TEST_CRASH_AFTER=<point>) and
 * check that a restarted worker finishes the import exactly once. Unset in production, where this is a no-op.
 */
export type CrashPoint =
  | "recorded"
  | "fetched"
  | "assembled"
  | "reserve-call"
  | "reserved"
  | "uploads-checked"
  | "import-call"
  | "imported"
  | "failure-recorded"
  // The result relay: pending results locked, not yet published; published and confirmed, not yet marked sent.
  | "result-claimed"
  | "result-published";

export function crashPoint(point: CrashPoint): void {
  if (process.env.OKI_TEST_CRASH_AFTER === point) process.kill(process.pid, "SIGKILL");
}
