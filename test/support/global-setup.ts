import net from "node:net";
import type { TestProject } from "vitest/node";
import { buildWhenStale } from "./build.js";

/**
 * Where the real servers come from, in order: the environment (CI and this machine's `.ci/run`), a
 * testcontainers pair where a Docker engine answers, else this machine's local defaults when they listen.
 * The URLs reach test files through `inject("databaseUrl")` / `inject("amqpUrl")` (see servers.ts).
 */
const LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    amqpUrl: string;
    amqpManagementUrl: string;
  }
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildWhenStale();
  const stops: Array<() => Promise<unknown>> = [];
  let databaseUrl = process.env.TEST_DATABASE_URL;
  let amqpUrl = process.env.TEST_AMQP_URL;

  if ((!databaseUrl || !amqpUrl) && (await dockerAvailable())) {
    if (!databaseUrl) {
      const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
      const pg = await new PostgreSqlContainer("postgres:15").start();
      stops.push(() => pg.stop());
      databaseUrl = pg.getConnectionUri();
    }
    if (!amqpUrl) {
      const { RabbitMQContainer } = await import("@testcontainers/rabbitmq");
      const mq = await new RabbitMQContainer("rabbitmq:3-management").start();
      stops.push(() => mq.stop());
      amqpUrl = mq.getAmqpUrl();
    }
  }
  if (!databaseUrl && (await listening("127.0.0.1", 5432))) databaseUrl = LOCAL_DATABASE_URL;
  if (!amqpUrl && (await listening("127.0.0.1", 5672))) amqpUrl = LOCAL_AMQP_URL;
  if (!databaseUrl || !amqpUrl) {
    throw new Error(
      "tests need PostgreSQL and RabbitMQ: set TEST_DATABASE_URL and TEST_AMQP_URL, or run a Docker engine for testcontainers",
    );
  }
  project.provide("databaseUrl", databaseUrl);
  project.provide("amqpUrl", amqpUrl);
  project.provide("amqpManagementUrl", process.env.TEST_AMQP_MANAGEMENT_URL ?? "");
  return async () => {
    for (const stop of stops) await stop();
  };
}
