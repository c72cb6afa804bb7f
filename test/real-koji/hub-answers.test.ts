import { expect, it } from "vitest";
import { KojiHubs } from "../../src/koji/hubs.js";
import { describeRealHub } from "./realhub.js";

await describeRealHub("the real Koji hub", (hub) => {
  it("answers the importer's session as osbuild, with Koji's version", async () => {
    const hubs = new KojiHubs({ hubs: [hub().kojiHub()] });
    try {
      const client = await hubs.client(hub().url);
      expect(await client.getLoggedInUser()).toMatchObject({ name: "osbuild" });
    } finally {
      await hubs.close();
    }
  });
});
