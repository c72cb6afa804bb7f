/**
 * Preloaded into a worker process by the hub benches (`node --expose-gc -r ./bench/heap-probe.cjs dist/cli.js
 * worker`), a side channel the worker itself does not have: on SIGUSR2 it runs a full garbage collection and writes
 * the heap still in use, with the RSS, to stderr as one line `heap-probe {"heapUsed":..,"rss":..}`. Nothing else
 * in the worker changes; without the signal it does nothing.
 */
process.on("SIGUSR2", () => {
  global.gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  process.stderr.write(`heap-probe ${JSON.stringify({ heapUsed, rss, at: Date.now() })}\n`);
});
