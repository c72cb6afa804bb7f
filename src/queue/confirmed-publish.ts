import type { ConfirmChannel, Options } from "amqplib";
import { retryableError } from "../errors.js";

/**
 * Publishes and resolves once the broker has confirmed the message (it is then safe to ack what it replaces).
 * A nack or a closed channel rejects with a retryable error: the original stays unacked and is redelivered.
 */
export function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  body: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, body, { persistent: true, ...options }, (error) => {
        if (error) {
          reject(
            retryableError(
              "AMQP_PUBLISH_NACKED",
              `broker did not confirm the publish to ${exchange || routingKey}`,
            ),
          );
        } else {
          resolve();
        }
      });
    } catch (error) {
      reject(
        retryableError(
          "AMQP_CHANNEL_CLOSED",
          `cannot publish to ${exchange || routingKey}: ${(error as Error).message}`,
        ),
      );
    }
  });
}
