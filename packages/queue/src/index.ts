export {
  type ConnectionRole,
  connectRedis,
  DEFAULT_REDIS_URL,
  describeRedisUrl,
  waitForReady,
} from "./connection";
export { QueueError, type QueueErrorCode } from "./errors";
export { attemptJobId, DELIVERY_JOB_NAME, type DeliveryJobData, deliveryIdOf, type JobDelivery } from "./job";
export { DEFAULT_QUEUE_PREFIX, DELIVERY_QUEUE, isValidPrefix, type Keyspace, keyspace } from "./names";
