import type { Channel } from "amqplib";

/**
 * The broker objects the importer uses, all named after the work queue so several deployments can share a
 * vhost:
 *
 *   <exchange> (topic, composer publishes) ──<routing key>──▶ <queue> (quorum: the work)
 *   <queue>.retry.<delay> (one per delay, TTL = delay) ──expires──▶ default exchange ──▶ <queue>
 *   <queue>.dead-letter (fanout exchange) ──▶ <queue>.dead-letter (classic queue)
 *
 * The dead-letter queue is classic on purpose: SREs peek at it by get + requeue, and a quorum queue counts each
 * requeue as a delivery and drops a message past its delivery limit, so peeking would eventually lose messages.
 */
export interface TopologyNames {
  exchange: string;
  routingKey: string;
  workQueue: string;
  retryQueues: Array<{ name: string; delayMs: number }>;
  deadLetterExchange: string;
  deadLetterQueue: string;
}

export interface TopologySettings {
  exchange: string;
  routingKey: string;
  queue: string;
  retryDelaysMs: readonly number[];
}

function delayLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function topologyNames(settings: TopologySettings): TopologyNames {
  return {
    exchange: settings.exchange,
    routingKey: settings.routingKey,
    workQueue: settings.queue,
    retryQueues: settings.retryDelaysMs.map((delayMs) => ({
      name: `${settings.queue}.retry.${delayLabel(delayMs)}`,
      delayMs,
    })),
    deadLetterExchange: `${settings.queue}.dead-letter`,
    deadLetterQueue: `${settings.queue}.dead-letter`,
  };
}

/** The retry queue for a failed attempt: the n-th delay for attempt n, the last delay repeating. */
export function retryQueueFor(names: TopologyNames, attempt: number): { name: string; delayMs: number } {
  const index = Math.min(Math.max(attempt, 1), names.retryQueues.length) - 1;
  return names.retryQueues[index] as { name: string; delayMs: number };
}

/** Declares everything; safe to run at every start and from every replica (declarations are idempotent). */
export async function declareTopology(channel: Channel, names: TopologyNames): Promise<void> {
  await channel.assertExchange(names.exchange, "topic", { durable: true });
  await channel.assertQueue(names.workQueue, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await channel.bindQueue(names.workQueue, names.exchange, names.routingKey);
  for (const retry of names.retryQueues) {
    await channel.assertQueue(retry.name, {
      durable: true,
      arguments: {
        "x-message-ttl": retry.delayMs,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": names.workQueue,
      },
    });
  }
  await channel.assertExchange(names.deadLetterExchange, "fanout", { durable: true });
  await channel.assertQueue(names.deadLetterQueue, {
    durable: true,
    arguments: { "x-queue-type": "classic" },
  });
  await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, "");
}

/** Removes everything declareTopology made (tests and the bench use per-run names). */
export async function deleteTopology(channel: Channel, names: TopologyNames): Promise<void> {
  for (const queue of [names.workQueue, names.deadLetterQueue, ...names.retryQueues.map((r) => r.name)]) {
    await channel.deleteQueue(queue);
  }
  await channel.deleteExchange(names.exchange);
  await channel.deleteExchange(names.deadLetterExchange);
}
