import { parseArgs } from "node:util";
import { startFakeKojiHub } from "../test/fakes/koji/server.js";

/** The fake Koji hub for the upload bench, in its own process: prints url/ca/cert/key lines the bench reads. */
const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const hub = await startFakeKojiHub({ port: Number(values.port) });
hub.grant("osbuild");
const cert = hub.clientCert("osbuild");
console.log(`url: ${hub.url}\nca: ${hub.pki.caFile}\ncert: ${cert.certFile}\nkey: ${cert.keyFile}`);
process.once("SIGTERM", () => void hub.close().then(() => process.exit(0)));
