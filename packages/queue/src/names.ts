/**
 * Every Redis key hookwire writes starts with the installation's prefix (HOOKWIRE_QUEUE_PREFIX,
 * default "hookwire"), so several installations can share one Redis.
 */
export const DEFAULT_QUEUE_PREFIX = "hookwire";

/** The BullMQ queue that carries deliveries. */
export const DELIVERY_QUEUE = "deliveries";

const PREFIX_PATTERN = /^[A-Za-z0-9_.{}-]{1,64}$/;

export function isValidPrefix(prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix);
}

/** Names of hookwire's own keys (BullMQ names its keys itself, under the same prefix). */
export function keyspace(prefix: string) {
  return {
    hooks: `${prefix}:hooks`,
    hooksVersion: `${prefix}:hooks:version`,
    hookHealth: (hookId: string) => `${prefix}:hook:${hookId}:health`,
    delivery: (deliveryId: string) => `${prefix}:delivery:${deliveryId}`,
    deliveryAttempts: (deliveryId: string) => `${prefix}:delivery:${deliveryId}:attempts`,
    deliveriesByTime: `${prefix}:deliveries`,
    deliveriesByHook: (hookId: string) => `${prefix}:hook:${hookId}:deliveries`,
    deliveriesByStatus: (status: string) => `${prefix}:deliveries:${status}`,
    entrySeen: (entryId: string) => `${prefix}:entry:${entryId}`,
    idempotencyKey: (key: string) => `${prefix}:idempotency:${key}`,
    stats: (name: string) => `${prefix}:stats:${name}`,
  };
}

export type Keyspace = ReturnType<typeof keyspace>;
