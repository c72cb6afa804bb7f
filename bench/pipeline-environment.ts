import { writeFileSync } from "node:fs";
import { startFakeEnvironment } from "../test/fakes/environment.js";

/**
 * The bench's outside world, in a process of its own: the fakes and N composes prepared as composer would leave
 * them (outputs uploaded). Writes the events to the file named by argv[3] and prints one JSON line when ready.
 */
const count = Number(process.argv[2] ?? "2000");
const eventsFile = process.argv[3] ?? "/tmp/oki-bench-events.json";
const environment = await startFakeEnvironment();
const events: unknown[] = [];
for (let i = 0; i < count; i++) events.push((await environment.prepareCompose({ release: `b${i}` })).event);
writeFileSync(eventsFile, JSON.stringify(events));
// Nothing here reads the fake hub's request log, and kept, it grows for the run's life by every call's decoded
// parameters (each CGImport's document): heap the fakes' garbage collector would walk again and again.
setInterval(() => environment.hub.requests.splice(0), 2000).unref();
console.log(
  JSON.stringify({
    kojiHubs: JSON.stringify(environment.kojiHubs),
    composerUrl: environment.composer.url,
    eventsFile,
  }),
);
process.once("SIGTERM", () => void environment.close().then(() => process.exit(0)));
