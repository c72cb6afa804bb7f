/**
 * RabbitMQ adapter. The pipeline gives QueueConsumer a handler returning an Outcome (ack | retry | dead-letter);
 * the consumer carries it out with publisher confirms before the ack. Topology names come from topologyNames().
 */
export { publishConfirmed } from "./confirmed-publish.js";
export { type ConsumerOptions, QueueConsumer } from "./consumer.js";
export { ATTEMPT_HEADER, attemptOf, type Delivery, type DeliveryHandler, type Outcome } from "./delivery.js";
export { EventPublisher } from "./publisher.js";
export {
  declareTopology,
  deleteTopology,
  retryQueueFor,
  type TopologyNames,
  type TopologySettings,
  topologyNames,
} from "./topology.js";
