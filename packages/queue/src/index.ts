export {
  type ClusterNodes,
  type ConnectionRole,
  connectRedis,
  DEFAULT_REDIS_URL,
  describeRedis,
  describeRedisUrl,
  dropPrefix,
  isCluster,
  mastersOf,
  type RedisTarget,
  redisAnswers,
  redisErrorCode,
  type SentinelGroup,
  serverOfKey,
  transientRedisReply,
  waitForReady,
} from "./connection";
export { QueueError, type QueueErrorCode } from "./errors";
export {
  attemptJobId,
  type BatchJobData,
  type BatchRef,
  batchRefsOf,
  DELIVERY_JOB_NAME,
  type DeliveryBatch,
  type DeliveryJobData,
  deliveryIdOf,
  type JobDelivery,
  MAX_JOB_DELIVERIES,
  type RequestJobData,
} from "./job";
export { defineScripts, LuaScript } from "./lua-script";
export {
  ATTEMPT_BUCKETS_SECONDS,
  clusterPrefix,
  DEFAULT_QUEUE_PREFIX,
  DELIVERY_QUEUE,
  isValidPrefix,
  type Keyspace,
  keyspace,
  LATENCY_BUCKETS_SECONDS,
  STATS_STUCK_FIELD,
  STATS_TTL_MS,
} from "./names";
export {
  decodeBatch,
  encodeBatch,
  held,
  JOB_OPTIONS,
  jobBackoffMs,
  jobIdOf,
  OUTBOX_SCRIPTS,
  Outbox,
  type OutboxBatch,
  type SweepResult,
} from "./outbox";
export {
  hookIdOfDelivery,
  MAX_PARTITIONS,
  type Partition,
  Partitions,
  partitionIndexOf,
  partitionPrefix,
  settlePartitionCount,
} from "./partitions";
export {
  assessPersistence,
  durabilityProblem,
  persistenceWarning,
  type RedisPersistence,
  readRedisPersistence,
  requireDurable,
} from "./persistence";
export {
  decodeSequenced,
  encodeSequenced,
  type HeldHead,
  heldOf,
  SEQUENCE_SCRIPTS,
  type SequenceStep,
  Sequences,
  type SequenceView,
} from "./sequence";
