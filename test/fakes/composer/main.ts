import { parseArgs } from "node:util";
import { loadComposeFixtures } from "./fixtures.js";
import { type FakeAuth, startFakeComposer } from "./server.js";

/**
 * `npm run fake:composer -- --fixtures DIR --port N [--host H] [--client-id ID --client-secret S]`
 * Serves every compose under DIR on the Cloud API v2 paths, for the demo or to replay a real compose against the
 * importer. With a client id and secret it also serves the OAuth token endpoint and requires its tokens.
 */
const { values } = parseArgs({
  options: {
    fixtures: { type: "string" },
    port: { type: "string", default: "8701" },
    host: { type: "string", default: "127.0.0.1" },
    "client-id": { type: "string" },
    "client-secret": { type: "string" },
    "token-lifetime": { type: "string", default: "300" },
  },
});

if (!values.fixtures) {
  console.error(
    "usage: fake-composer --fixtures DIR [--port N] [--host H] [--client-id ID --client-secret S]",
  );
  process.exit(2);
}

const clientId = values["client-id"];
const clientSecret = values["client-secret"];
const auth: FakeAuth =
  clientId && clientSecret
    ? { mode: "oauth", clientId, clientSecret, tokenLifetimeSeconds: Number(values["token-lifetime"]) }
    : { mode: "none" };
const composes = loadComposeFixtures(values.fixtures);
const fake = await startFakeComposer({
  host: values.host,
  port: Number(values.port),
  auth,
  composes: Object.fromEntries(composes),
});

console.log(
  JSON.stringify({
    msg: "fake composer listening",
    url: fake.url,
    api_url: fake.apiUrl,
    ...(auth.mode === "oauth" ? { token_url: fake.tokenUrl } : {}),
    composes: [...composes.keys()],
  }),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
}
