/**
 * A Lua script hookwire runs in Redis, sent by its SHA once the connection has it.
 *
 * `define` makes it one of the connection's commands (ioredis' `defineCommand`): ioredis then
 * sends EVAL with the whole source the first time on each socket (a new connection, a
 * reconnect, each node of a cluster) and EVALSHA after that, so the source (2 KB for a hook's
 * take) is not written, and hashed by Redis, for every call. Pipelines and MULTIs made from the
 * connection after `define` have the command too. On a connection where it was not defined
 * (a test's own, say) `add` and `run` send EVAL as before: the same effect, only dearer.
 *
 * A script over any number of keys (a request's entry ids, say) is made with `numberOfKeys`
 * undefined; each call then passes the number of keys first, as EVAL takes them.
 */
import type { ChainableCommander, Redis } from "ioredis";

type Arg = string | number;

export class LuaScript {
  readonly #name: string;
  readonly #numberOfKeys: number | undefined;
  readonly #lua: string;

  constructor(name: string, numberOfKeys: number | undefined, lua: string) {
    this.#name = name;
    this.#numberOfKeys = numberOfKeys;
    this.#lua = lua;
  }

  /** Makes the script a command of `redis` (and of the pipelines made from it from now on). */
  define(redis: Redis): void {
    if (typeof (redis as unknown as Record<string, unknown>)[this.#name] === "function") return;
    redis.defineCommand(
      this.#name,
      this.#numberOfKeys === undefined
        ? { lua: this.#lua }
        : { numberOfKeys: this.#numberOfKeys, lua: this.#lua },
    );
  }

  /** Adds a call (keys first, then arguments) to a pipeline or MULTI. */
  add(target: ChainableCommander, ...keysAndArgs: Arg[]): void {
    const command = (target as unknown as Record<string, unknown>)[this.#name];
    if (typeof command === "function") (command as (...args: Arg[]) => unknown).apply(target, keysAndArgs);
    else target.eval(this.#lua, ...this.#evalArgs(keysAndArgs));
  }

  /** Runs it at once on `redis`. */
  run(redis: Redis, ...keysAndArgs: Arg[]): Promise<unknown> {
    const command = (redis as unknown as Record<string, unknown>)[this.#name];
    if (typeof command === "function")
      return (command as (...args: Arg[]) => Promise<unknown>).apply(redis, keysAndArgs);
    return redis.eval(this.#lua, ...this.#evalArgs(keysAndArgs));
  }

  #evalArgs(keysAndArgs: Arg[]): [number | string, ...Arg[]] {
    if (this.#numberOfKeys !== undefined) return [this.#numberOfKeys, ...keysAndArgs];
    const [count, ...rest] = keysAndArgs;
    return [count ?? 0, ...rest];
  }
}

/** Defines every script of `scripts` on `redis` (see LuaScript.define). */
export function defineScripts(redis: Redis, scripts: readonly LuaScript[]): void {
  for (const script of scripts) script.define(redis);
}
