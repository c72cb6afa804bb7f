import { execFile } from "node:child_process";
import { promisify } from "node:util";
import amqp from "amqplib";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { testAmqpUrl } from "../support/servers.js";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;

/** `npm run demo` as a newcomer runs it, with this test run's servers. */
async function demo(): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("npm", ["run", "--silent", "demo"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: inject("databaseUrl"), AMQP_URL: testAmqpUrl() },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("npm run demo", () => {
  it("three runs at once each import their compose, print the build COMPLETE, and leave nothing behind", async () => {
    const runs = await Promise.all([demo(), demo(), demo()]);
    const names: string[] = [];
    for (const result of runs) {
      expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
      expect(result.stdout).toMatch(/import [0-9a-f-]{36}: imported/);
      expect(result.stdout).toContain('"state": "COMPLETE"');
      const name = /to (oki_demo_\d+_[0-9a-f]{6})\.events/.exec(result.stdout)?.[1];
      expect(name).toBeDefined();
      names.push(name as string);
    }
    expect(new Set(names).size).toBe(3);

    const client = new pg.Client({ connectionString: inject("databaseUrl") });
    await client.connect();
    try {
      const left = await client.query("SELECT datname FROM pg_database WHERE datname = ANY($1)", [names]);
      expect(left.rows).toEqual([]);
    } finally {
      await client.end();
    }
    const model = await amqp.connect(testAmqpUrl());
    try {
      for (const name of names) {
        const channel = await model.createChannel();
        channel.on("error", () => undefined);
        await expect(channel.checkQueue(`${name}.compose-finished`)).rejects.toThrow(/NOT_FOUND/);
      }
    } finally {
      await model.close();
    }
  }, 240_000);
});
