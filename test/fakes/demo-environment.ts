import { startFakeEnvironment } from "./environment.js";

/**
 * The outside world for `npm run demo`, in a process of its own: the fakes and one freshly prepared sample
 * compose. Prints one JSON line with what the importer needs, then serves until it is terminated.
 */
const environment = await startFakeEnvironment();
const day = new Date().toISOString().slice(0, 10).replace(/-/g, "");
const { composeId, event } = await environment.prepareCompose();
event.koji.release = `${day}.${composeId.slice(0, 8)}`;
// The NVR is in the event only (composer reserved nothing for this compose), so renaming it here is safe.
console.log(
  JSON.stringify({
    kojiHubs: JSON.stringify(environment.kojiHubs),
    composerUrl: environment.composer.url,
    event,
  }),
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void environment.close().then(() => process.exit(0)));
}
