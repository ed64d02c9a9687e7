import { Pool } from "undici";

/**
 * Connection budgets per hook. Each hook sends to each origin through an undici Pool of its own,
 * of at most `connections` sockets (the hook's concurrency). Hooks that share an origin (every
 * Slack hook of a company) then cannot take each other's connections: a hook whose path hangs
 * fills its own pool and queues behind it, while a healthy hook on the same host keeps its own.
 *
 * Pools do not outlive their use: once a hook's pool to an origin has no attempt in flight and no
 * socket open (keep-alive idle, 4 s by default, or the receiver closed it), it is closed and
 * forgotten, as undici's Agent does with an origin's pool. So hooks that stopped sending (deleted,
 * turned off, gone quiet) hold nothing, and what is held is bounded by the hooks sending now.
 *
 * Pools and not an Agent per hook: an Agent forgets its pools when told to close, so a destroy()
 * after close() (shutdown's grace period running out) could no longer abort their attempts.
 */

/** One hook's pool to one origin. Handed out by `acquire`, given back to `release`. */
export interface HookPool {
  readonly hookId: string;
  readonly origin: string;
  readonly pool: Pool;
  /** Attempts acquired and not yet released. */
  inFlight: number;
  /** Sockets open now. */
  sockets: number;
}

/** A hook's pools, one per origin, all of one budget and one connector (its TLS settings). */
interface HookBudget {
  readonly connections: number;
  readonly connect: Pool.Options["connect"];
  readonly byOrigin: Map<string, HookPool>;
}

/** Every Pool option but `connections`, which is each hook's own. */
export type SharedPoolOptions = Omit<Pool.Options, "connections">;

function noop(): void {}

export class HookPools {
  readonly #options: SharedPoolOptions;
  readonly #hooks = new Map<string, HookBudget>();
  /** Pools told to close (idle, or replaced by a new budget) and not closed yet. */
  readonly #closing = new Set<Pool>();

  constructor(options: SharedPoolOptions) {
    this.#options = options;
  }

  /** Pools open now, across hooks and origins. */
  get size(): number {
    let size = 0;
    for (const budget of this.#hooks.values()) size += budget.byOrigin.size;
    return size;
  }

  /**
   * The hook's pool to `origin` for one attempt, counted in flight until `release`. Two Map
   * lookups when the hook already sends there. A changed budget or connector (`connect`: the
   * hook's own, for its TLS settings; else the shared one) replaces the hook's pools: the old ones
   * finish what they have in flight, then close.
   */
  acquire(
    hookId: string,
    connections: number,
    origin: string,
    connect: Pool.Options["connect"] = this.#options.connect,
  ): HookPool {
    let budget = this.#hooks.get(hookId);
    if (budget === undefined || budget.connections !== connections || budget.connect !== connect) {
      if (budget !== undefined) {
        for (const entry of budget.byOrigin.values()) this.#retire(entry.pool);
      }
      budget = { connections, connect, byOrigin: new Map() };
      this.#hooks.set(hookId, budget);
    }
    let entry = budget.byOrigin.get(origin);
    if (entry === undefined) {
      entry = this.#open(hookId, origin, connections, connect);
      budget.byOrigin.set(origin, entry);
    }
    entry.inFlight++;
    return entry;
  }

  release(entry: HookPool): void {
    entry.inFlight--;
    this.#closeIfIdle(entry);
  }

  /** Every pool closes once its attempts are done; `destroy` may still follow. */
  async close(): Promise<void> {
    await Promise.all(this.#takeAll().map((pool) => pool.close().catch(noop)));
  }

  /** Every pool aborts its attempts and sockets now. */
  async destroy(): Promise<void> {
    await Promise.all(this.#takeAll().map((pool) => pool.destroy().catch(noop)));
  }

  /** Every pool, live or closing; the live ones are forgotten (they join `closing`). */
  #takeAll(): Pool[] {
    for (const budget of this.#hooks.values()) {
      for (const entry of budget.byOrigin.values()) this.#closing.add(entry.pool);
    }
    this.#hooks.clear();
    return [...this.#closing];
  }

  #open(hookId: string, origin: string, connections: number, connect: Pool.Options["connect"]): HookPool {
    const pool = new Pool(origin, {
      ...this.#options,
      connections,
      ...(connect === undefined ? {} : { connect }),
    });
    const entry: HookPool = { hookId, origin, pool, inFlight: 0, sockets: 0 };
    // Once per socket, not per attempt: a keep-alive socket carries many attempts.
    pool.on("connect", () => {
      entry.sockets++;
    });
    pool.on("disconnect", () => {
      entry.sockets--;
      this.#closeIfIdle(entry);
    });
    return entry;
  }

  #closeIfIdle(entry: HookPool): void {
    if (entry.inFlight > 0 || entry.sockets > 0) return;
    const budget = this.#hooks.get(entry.hookId);
    // A replaced or closed pool is already closing; only the hook's current one is forgotten here.
    if (budget === undefined || budget.byOrigin.get(entry.origin) !== entry) return;
    budget.byOrigin.delete(entry.origin);
    if (budget.byOrigin.size === 0) this.#hooks.delete(entry.hookId);
    this.#retire(entry.pool);
  }

  #retire(pool: Pool): void {
    this.#closing.add(pool);
    pool
      .close()
      .catch(noop)
      .finally(() => this.#closing.delete(pool));
  }
}
