/**
 * RabbitMQ adapter. The pipeline gives QueueConsumer a handler returning an Outcome (ack | retry | dead-letter);
 * the consumer carries it out with publisher confirms before the ack. Topology names come from topologyNames().
 */
export { QueueConsumer } from "./consumer.js";
export type { Delivery, Outcome } from "./delivery.js";
export { EventPublisher } from "./publisher.js";
export { declareTopology, deleteTopology, type TopologyNames, topologyNames } from "./topology.js";
