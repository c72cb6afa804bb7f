import amqp, { type Channel, type ChannelModel } from "amqplib";
import {
  declareTopology,
  deleteTopology,
  type TopologyNames,
  topologyNames,
} from "../../src/queue/topology.js";
import { runPrefix, testAmqpUrl } from "./servers.js";

/** The importer's exchange and queues under this run's own names, declared, with a channel to inspect them. */
export interface TestTopology {
  names: TopologyNames;
  channel: Channel;
  /** Deletes the exchanges and queues and closes the connection. */
  remove(): Promise<void>;
}

export async function createTestTopology(
  label: string,
  retryDelaysMs: number[] = [1000],
): Promise<TestTopology> {
  const prefix = runPrefix(label);
  const names = topologyNames({
    exchange: `${prefix}.events`,
    routingKey: "compose.finished",
    queue: `${prefix}.work`,
    retryDelaysMs,
  });
  const model: ChannelModel = await amqp.connect(testAmqpUrl());
  const channel = await model.createChannel();
  await declareTopology(channel, names);
  return {
    names,
    channel,
    async remove() {
      await deleteTopology(channel, names);
      await model.close();
    },
  };
}
