import type { HookwireConfig } from "@hookwire/config";
import type { OAuthTokens, Sender } from "@hookwire/delivery";
import type { Catalog } from "@hookwire/manifest";
import {
  type DeliveryJobData,
  type Keyspace,
  type Partition,
  type Partitions,
  redisErrorCode,
  transientRedisReply,
} from "@hookwire/queue";
import {
  type DeliveryLog,
  type DeliveryLogs,
  type DeliveryWriter,
  type HookStore,
  StoreError,
} from "@hookwire/store";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { ApiKeys } from "./auth";
import { ApiError } from "./errors";
import type { Intake } from "./intake";
import type { OperationalEvents } from "./operational-events";
import type { PersistenceWatch } from "./persistence";

/** One partition's queue, log and write path, as ingest uses them. */
export interface IngestLane {
  partition: Partition;
  queue: Queue<DeliveryJobData>;
  log: DeliveryLog;
  /** The one write path for the partition's deliveries (records and their batches together). */
  writer: DeliveryWriter;
}

/** What the routes share: built once by buildApp. */
export interface Services {
  config: Readonly<HookwireConfig>;
  redis: Redis;
  /** The installation's own keys: partition 0's. */
  keys: Keyspace;
  partitions: Partitions;
  /** `lanes[i]`: partition i's. */
  lanes: readonly IngestLane[];
  hooks: HookStore;
  /** Every partition's delivery log, read as one. */
  log: DeliveryLogs;
  catalog: Catalog;
  sender: Sender;
  /** The access tokens of "test this hook" for hooks of requiresOAuth integrations. */
  oauth: OAuthTokens;
  intake: Intake;
  /** Operational events in, as entries of kind `hookwire` (see operational-events.ts). */
  events: OperationalEvents;
  apiKeys: ApiKeys;
  persistence: PersistenceWatch;
}

/** The lane of a hook's partition. */
export function laneOf(services: Services, hookId: string): IngestLane {
  return services.lanes[services.partitions.of(hookId).index] as IngestLane;
}

/** Fails at once, instead of waiting on a command that cannot answer, while Redis is away. */
export function requireRedis(services: Services): void {
  if (services.redis.status !== "ready") {
    throw new ApiError(
      "API_ERR_UNAVAILABLE",
      `Redis is not available (connection ${services.redis.status}); retry shortly`,
      {
        retryAfterSeconds: 2,
      },
    );
  }
}

/** Runs a Redis-backed step; a Redis failure becomes a 503 with Retry-After. */
export async function withRedis<T>(services: Services, step: () => Promise<T>): Promise<T> {
  requireRedis(services);
  try {
    return await step();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof StoreError && error.code === "STORE_ERR_NOT_REPLICATED") {
      throw new ApiError(
        "API_ERR_UNAVAILABLE",
        `Redis' replicas did not confirm the writes in time (${error.message}); nothing is acknowledged, retry shortly`,
        { retryAfterSeconds: 2, cause: error },
      );
    }
    if (isRedisFailure(error)) {
      throw new ApiError("API_ERR_UNAVAILABLE", "Redis did not answer; retry shortly", {
        retryAfterSeconds: 2,
        cause: error,
      });
    }
    // A refusal by Redis (out of memory, a failed save blocking writes, too few replicas):
    // nothing of the request was committed (one MULTI), and trying again later may work.
    const code =
      redisErrorCode(error) ?? redisErrorCode((error as { previousErrors?: unknown[] }).previousErrors?.[0]);
    if (code !== undefined && WRITE_REFUSALS.has(code)) {
      throw new ApiError(
        "API_ERR_UNAVAILABLE",
        `Redis refused the write (${code}); nothing was accepted, retry shortly`,
        {
          retryAfterSeconds: 5,
          cause: error,
        },
      );
    }
    // Any other error reply (WRONGTYPE: a key of hookwire's holds something else) is no state
    // that passes: a retry would meet it again. Only its code is told, the log has the rest.
    if (code !== undefined)
      throw new ApiError(
        "API_ERR_INTERNAL",
        `Redis answered ${code} to this request's commands, which retrying will not mend; see ingest's log`,
        { cause: error },
      );
    throw error;
  }
}

/** Error replies of a Redis that cannot take writes now, and may later. */
const WRITE_REFUSALS: ReadonlySet<string> = new Set(["OOM", "MISCONF", "NOREPLICAS"]);

function isRedisFailure(error: unknown): boolean {
  const transient = transientRedisReply(error);
  if (transient !== undefined) return transient;
  const name = (error as Error | undefined)?.name ?? "";
  const message = (error as Error | undefined)?.message ?? "";
  return (
    name === "MaxRetriesPerRequestError" ||
    // A command sent on a connection that closed before it was answered (ioredis' AbortError).
    name === "AbortError" ||
    /Connection is closed|Command timed out|Stream isn't writeable|ECONNREFUSED|ECONNRESET|enableOfflineQueue/i.test(
      message,
    )
  );
}
