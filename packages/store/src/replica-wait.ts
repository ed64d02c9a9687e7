/**
 * Redis WAIT for the writes of a connection, shared by the commits that end close together (a
 * group commit). WAIT answers how many replicas hold everything this connection wrote before it,
 * so one WAIT serves every commit whose EXEC was answered before it was sent: a commit that finds
 * a WAIT already in flight (sent, maybe, before its EXEC) joins the next one, sent as soon as that
 * one answers. WAIT blocks its connection until it answers; a connection that only commits (see
 * ingest's app.ts) keeps other requests' reads from queueing behind it.
 */
import { serverOfKey } from "@hookwire/queue";
import type { Redis } from "ioredis";

export interface ReplicaWaitOptions {
  /** Replicas that must hold the writes. */
  replicas: number;
  /** How long WAIT waits for them. */
  timeoutMs: number;
  /**
   * On a Redis Cluster: a key of the writes (every key of a partition shares one hash tag),
   * whose master is where WAIT is sent. A WAIT names no key, and the cluster client would send it
   * to any node, which holds none of them.
   */
  key?: string;
}

export class ReplicaWait {
  readonly #redis: Redis;
  readonly #options: ReplicaWaitOptions;
  #inFlight: Promise<number> | undefined;
  #next: Promise<number> | undefined;

  constructor(redis: Redis, options: ReplicaWaitOptions) {
    this.#redis = redis;
    this.#options = options;
  }

  get replicas(): number {
    return this.#options.replicas;
  }

  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  /**
   * How many replicas hold every write this connection made before the call (at least until
   * `replicas` of them do, or the timeout passes). Call it once the write has been answered.
   */
  acknowledged(): Promise<number> {
    // Not sent yet, so sent after this write's answer: it covers the write.
    if (this.#next !== undefined) return this.#next;
    const inFlight = this.#inFlight;
    if (inFlight === undefined) return this.#send();
    this.#next = inFlight
      .catch(() => 0)
      .then(() => {
        this.#next = undefined;
        return this.#send();
      });
    return this.#next;
  }

  #send(): Promise<number> {
    const server =
      this.#options.key === undefined ? this.#redis : serverOfKey(this.#redis, this.#options.key);
    // No slot map yet, so nothing was written through it either: no replica holds anything.
    const sent =
      server === undefined
        ? Promise.resolve(0)
        : server.wait(this.#options.replicas, this.#options.timeoutMs);
    this.#inFlight = sent;
    const clear = () => {
      if (this.#inFlight === sent) this.#inFlight = undefined;
    };
    sent.then(clear, clear);
    return sent;
  }
}
