import { setTimeout as sleep } from "node:timers/promises";

/**
 * Waits for `work` at most `ms`: shutdown must end even when a peer never answers (a Koji logout to a hub that is
 * gone, a pool waiting for a connection an abandoned import still holds). The timer never outlives the wait.
 */
export async function bounded(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}
