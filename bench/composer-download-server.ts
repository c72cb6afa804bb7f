import { startFakeComposer } from "../test/fakes/composer/server.js";

/**
 * The fake composer for bench/composer-download.ts, in its own process so the bench's RSS is the client's alone.
 * Serves one compose per size given on the command line (bytes), each with a generated, unbuffered download, and
 * prints `{"url": ..., "composes": {"<size>": "<id>"}}` on one line.
 */
const sizes = process.argv.slice(2).map(Number);
const fake = await startFakeComposer();
const composes: Record<string, string> = {};
sizes.forEach((size, index) => {
  const id = `00000000-0000-4000-8000-${String(index + 1).padStart(12, "0")}`;
  fake.addCompose(id, { status: { status: "success" }, download: { generatedBytes: size } });
  composes[String(size)] = id;
});
console.log(JSON.stringify({ url: fake.url, composes }));
process.once("SIGTERM", () => {
  void fake.close().then(() => process.exit(0));
});
