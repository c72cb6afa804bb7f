import type { AdminAmqp } from "../admin/amqp.js";
import type { TopologyNames } from "./topology.js";

export interface QueueDepth {
  queue: string;
  role: "work" | "retry" | "dead-letter";
  /** Ready messages; null when the queue is not declared (no worker has started with these names). */
  messages: number | null;
}

/** The depth of every queue of the topology: the work queue, each retry queue, the dead letters. */
export async function queueDepths(amqp: AdminAmqp, names: TopologyNames): Promise<QueueDepth[]> {
  const queues: Array<Omit<QueueDepth, "messages">> = [
    { queue: names.workQueue, role: "work" },
    ...names.retryQueues.map((retry) => ({ queue: retry.name, role: "retry" as const })),
    { queue: names.deadLetterQueue, role: "dead-letter" },
  ];
  const depths: QueueDepth[] = [];
  for (const queue of queues) {
    // A missing queue closes the channel it was asked on: one channel per queue.
    const messages = await amqp.withChannel(async (channel) => {
      try {
        return (await channel.checkQueue(queue.queue)).messageCount;
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return null;
        throw error;
      }
    });
    depths.push({ ...queue, messages });
  }
  return depths;
}
