import { OAUTH_SECRET_FIELDS } from "@hookwire/delivery";
import { type Keyspace, LuaScript } from "@hookwire/queue";
import type { Redis } from "ioredis";
import { StoreError } from "./errors";
import {
  checkHookId,
  type FormValue,
  type Hook,
  type HookInput,
  type HookOAuth,
  type HookTls,
  hookSecretKeys,
  newHookId,
  oauthTokensDigest,
  replacedOAuth,
  TLS_FIELDS,
} from "./hook";
import { SecretBox } from "./secret-box";

/** How often `update` reads a hook again when another write got in first. */
const MAX_UPDATE_TRIES = 20;

/** KEYS[1] the hooks hash. ARGV[1] a hook id, ARGV[2] its value as read, ARGV[3] the new one. */
const SWAP = new LuaScript(
  "hookwireHookSwap",
  1,
  `if redis.call("HGET", KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[3])
return 1`,
);

/** A hook as it lies in Redis: secret form variables sealed apart from the rest, OAuth secrets sealed in place. */
interface StoredHook extends Omit<Hook, "formVariables" | "secretKeys"> {
  formVariables: Record<string, FormValue>;
  secrets: Record<string, string>;
}

export interface HookStoreOptions {
  /** How long a read may trust its cached copy before asking Redis whether hooks changed. */
  cacheMs?: number;
}

/**
 * Hooks live in one Redis hash (id → JSON) beside a version counter that every write bumps.
 * Readers (ingest for every entry, the worker for every send) keep all hooks decrypted in memory
 * and reload only when the counter moved, so the hot path costs at most one GET per `cacheMs`.
 */
export class HookStore {
  readonly #redis: Redis;
  readonly #keys: Keyspace;
  readonly #box: SecretBox;
  readonly #cacheMs: number;
  #cache: Map<string, Hook> | undefined;
  #cacheVersion: string | null = null;
  #checkedAt = 0;
  #loading: Promise<Map<string, Hook>> | undefined;

  constructor(redis: Redis, keys: Keyspace, box: SecretBox, options: HookStoreOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#box = box;
    this.#cacheMs = options.cacheMs ?? 250;
  }

  async create(input: HookInput, secretKeys: ReadonlySet<string>): Promise<Hook> {
    const id = input.id ?? newHookId();
    checkHookId(id);
    const now = new Date().toISOString();
    const hook: Hook = {
      id,
      integration: input.integration,
      name: input.name,
      on: input.on ?? true,
      formVariables: input.formVariables,
      secretKeys: hookSecretKeys(input.formVariables, secretKeys),
      ...(input.policy ? { policy: input.policy } : {}),
      delivery: input.delivery ?? {},
      ...(input.oauth ? { oauth: input.oauth, oauthGiven: oauthTokensDigest(input.oauth) } : {}),
      createdAt: now,
      updatedAt: now,
      revision: 1,
    };
    const created = await this.#redis.hsetnx(this.#keys.hooks, id, JSON.stringify(this.#seal(hook)));
    if (created === 0) throw new StoreError("STORE_ERR_CONFLICT", `a hook with id ${id} already exists`);
    await this.#changed();
    return hook;
  }

  /**
   * Replaces a hook's settings (keeping id and createdAt), by compare and set; creates it when
   * absent. OAuth tokens hookwire got since the same ones were given last are kept (see
   * `replacedOAuth`).
   */
  async put(
    input: HookInput & { id: string },
    secretKeys: ReadonlySet<string>,
  ): Promise<{ hook: Hook; created: boolean }> {
    checkHookId(input.id);
    for (;;) {
      if ((await this.#read(input.id)) === undefined) {
        try {
          return { hook: await this.create(input, secretKeys), created: true };
        } catch (error) {
          // Created meanwhile by another process: replace it, as if it had been there.
          if (!(error instanceof StoreError && error.code === "STORE_ERR_CONFLICT")) throw error;
        }
      }
      try {
        const hook = await this.update(input.id, (existing) => ({
          ...existing,
          integration: input.integration,
          name: input.name,
          on: input.on ?? existing.on,
          formVariables: input.formVariables,
          secretKeys: hookSecretKeys(input.formVariables, secretKeys),
          policy: input.policy ?? undefined,
          delivery: input.delivery ?? {},
          ...replacedOAuth(existing, input.oauth ?? undefined),
        }));
        return { hook, created: false };
      } catch (error) {
        // Deleted meanwhile: create it again.
        if (!(error instanceof StoreError && error.code === "STORE_ERR_NOT_FOUND")) throw error;
      }
    }
  }

  /**
   * Changes a hook by compare and set: `change` is applied to the hook as read, and the result is
   * written only if nobody wrote the hook in between (a PATCH and a worker keeping a refreshed
   * OAuth token at once), else read again and applied again, so neither write is lost.
   */
  async update(id: string, change: (hook: Hook) => Hook): Promise<Hook> {
    let next: Hook | undefined;
    const written = await this.#compareAndSet(id, (raw) => {
      next = this.#next(change(this.#open(JSON.parse(raw) as StoredHook)));
      return JSON.stringify(this.#seal(next));
    });
    if (!written || next === undefined) throw new StoreError("STORE_ERR_NOT_FOUND", `no hook with id ${id}`);
    await this.#changed();
    return next;
  }

  /**
   * Keeps tokens with the hook (sealed like its other secrets): a refresh's, or the first ones of
   * an authorization_code hook, so every process uses them and a rotated refresh token is not
   * lost. Nothing for a client_credentials hook (each process asks for its own).
   */
  async keepOAuthToken(
    id: string,
    token: { accessToken: string; refreshToken?: string | undefined; expiresAt?: number | undefined },
  ): Promise<void> {
    await this.update(id, (hook) =>
      hook.oauth === undefined || hook.oauth.grant === "client_credentials"
        ? hook
        : {
            ...hook,
            oauth: {
              ...hook.oauth,
              accessToken: token.accessToken,
              ...(token.refreshToken !== undefined ? { refreshToken: token.refreshToken } : {}),
              ...(token.expiresAt !== undefined
                ? { expiresAt: new Date(token.expiresAt).toISOString() }
                : {}),
            },
          },
    );
  }

  /**
   * Seals every hook's secrets again under the box's sealing key (`hookwire secrets rotate`):
   * what another key sealed (or a value from before key ids) is opened and sealed with the first
   * key. A hook is written only if nobody wrote it since it was read, else read and done again,
   * so a change made meanwhile is never undone. Answers the hooks rewritten and their secrets.
   */
  async reseal(): Promise<{ hooks: number; secrets: number }> {
    const all = await this.#redis.hgetall(this.#keys.hooks);
    let hooks = 0;
    let secrets = 0;
    for (const [id, first] of Object.entries(all)) {
      let count = 0;
      const written = await this.#compareAndSet(
        id,
        (raw) => {
          const resealed = this.#resealed(JSON.parse(raw) as StoredHook);
          count = resealed.count;
          return count === 0 ? undefined : JSON.stringify(resealed.stored);
        },
        first,
      );
      if (written) {
        hooks++;
        secrets += count;
      }
    }
    if (hooks > 0) await this.#changed();
    return { hooks, secrets };
  }

  /**
   * Writes the hook `id` as `next` makes it from its value as read, only if nobody wrote it
   * between the read and the write (else reads it again and asks `next` again). `next` answering
   * undefined leaves it as it is. Answers whether it was written (false: none such, or left).
   * `first`: a value already read.
   */
  async #compareAndSet(
    id: string,
    next: (raw: string) => string | undefined,
    first?: string,
  ): Promise<boolean> {
    let raw: string | null = first ?? (await this.#redis.hget(this.#keys.hooks, id));
    for (let tries = 0; raw !== null; tries++) {
      const value = next(raw);
      if (value === undefined) return false;
      if ((await SWAP.run(this.#redis, this.#keys.hooks, id, raw, value)) === 1) return true;
      if (tries >= MAX_UPDATE_TRIES)
        throw new StoreError("STORE_ERR_CONFLICT", `hook ${id} kept changing while it was being changed`);
      raw = await this.#redis.hget(this.#keys.hooks, id);
    }
    return false;
  }

  /** A stored hook with each secret not sealed by the sealing key sealed again, and how many. */
  #resealed(stored: StoredHook): { stored: StoredHook; count: number } {
    let count = 0;
    const again = (sealed: string) => {
      if (SecretBox.keyIdOf(sealed) === this.#box.sealingKeyId) return sealed;
      count++;
      return this.#box.seal(this.#box.open(sealed));
    };
    const secrets: Record<string, string> = {};
    for (const [key, sealed] of Object.entries(stored.secrets)) secrets[key] = again(sealed);
    return { stored: withSealedParts({ ...stored, secrets }, again), count };
  }

  async delete(id: string): Promise<boolean> {
    const removed = await this.#redis.hdel(this.#keys.hooks, id);
    if (removed > 0) await this.#changed();
    return removed > 0;
  }

  /**
   * One hook from the cache (reloaded when hooks changed); undefined when there is none. A miss
   * asks Redis once more, so a hook created a moment ago elsewhere is found at once.
   */
  async get(id: string): Promise<Hook | undefined> {
    const hook = (await this.#snapshot()).get(id);
    if (hook !== undefined) return hook;
    this.#checkedAt = 0;
    return (await this.#snapshot()).get(id);
  }

  /**
   * One hook as it is now: the hooks' version is asked first (one round trip), so a change made a
   * moment ago elsewhere, a deletion too, is seen at once (an ordered hook's worker needs that).
   */
  async current(id: string): Promise<Hook | undefined> {
    this.#checkedAt = 0;
    return (await this.#snapshot()).get(id);
  }

  async list(): Promise<Hook[]> {
    // Oldest first, ties by id: the order the API pages them in.
    return [...(await this.#snapshot()).values()].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  async enabled(): Promise<Hook[]> {
    return (await this.list()).filter((hook) => hook.on);
  }

  /** Forget the cache: the next read goes to Redis. */
  invalidate(): void {
    this.#cache = undefined;
  }

  async #read(id: string): Promise<Hook | undefined> {
    const raw = await this.#redis.hget(this.#keys.hooks, id);
    return raw === null ? undefined : this.#open(JSON.parse(raw) as StoredHook);
  }

  /** The hook as written next: its revision bumped, its time set, unset parts dropped. */
  #next(hook: Hook): Hook {
    const next: Hook = { ...hook, updatedAt: new Date().toISOString(), revision: hook.revision + 1 };
    if (next.policy === undefined) delete next.policy;
    if (next.oauth === undefined) delete next.oauth;
    if (next.oauth === undefined || next.oauthGiven === undefined) delete next.oauthGiven;
    return next;
  }

  async #changed(): Promise<void> {
    await this.#redis.incr(this.#keys.hooksVersion);
    this.#cache = undefined;
  }

  async #snapshot(): Promise<Map<string, Hook>> {
    const now = Date.now();
    if (this.#cache !== undefined && now - this.#checkedAt < this.#cacheMs) return this.#cache;
    this.#loading ??= this.#reload(now).finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #reload(now: number): Promise<Map<string, Hook>> {
    const version = await this.#redis.get(this.#keys.hooksVersion);
    if (this.#cache !== undefined && version === this.#cacheVersion) {
      this.#checkedAt = now;
      return this.#cache;
    }
    const all = await this.#redis.hgetall(this.#keys.hooks);
    const hooks = new Map<string, Hook>();
    for (const [id, raw] of Object.entries(all)) hooks.set(id, this.#open(JSON.parse(raw) as StoredHook));
    this.#cache = hooks;
    this.#cacheVersion = version;
    this.#checkedAt = now;
    return hooks;
  }

  #seal(hook: Hook): StoredHook {
    const { secretKeys, formVariables, ...rest } = hook;
    const plain: Record<string, FormValue> = {};
    const secrets: Record<string, string> = {};
    for (const [key, value] of Object.entries(formVariables)) {
      if (secretKeys.includes(key)) secrets[key] = this.#box.seal(String(value));
      else plain[key] = value;
    }
    return withSealedParts({ ...rest, formVariables: plain, secrets }, (v) => this.#box.seal(v));
  }

  #open(stored: StoredHook): Hook {
    const { secrets, formVariables, ...rest } = stored;
    const opened: Record<string, FormValue> = { ...formVariables };
    for (const [key, sealed] of Object.entries(secrets)) opened[key] = this.#box.open(sealed);
    return withSealedParts({ ...rest, formVariables: opened, secretKeys: Object.keys(secrets) }, (v) =>
      this.#box.open(v),
    );
  }
}

/**
 * A hook (stored or in memory) with every part sealed at rest in place passed through `change`
 * (seal, open or seal again): its OAuth secrets, the signing secret a rotation keeps, its
 * `delivery.tls`. The one list of them; secret form variables are sealed apart (`secrets`).
 */
function withSealedParts<T extends Pick<Hook, "oauth" | "oauthGiven" | "secretRotation" | "delivery">>(
  hook: T,
  change: (value: string) => string,
): T {
  const out: T = { ...hook };
  if (hook.oauth !== undefined) {
    const oauth: Record<string, unknown> = { ...hook.oauth };
    for (const field of OAUTH_SECRET_FIELDS) {
      const value = oauth[field];
      if (typeof value === "string") oauth[field] = change(value);
    }
    out.oauth = oauth as HookOAuth;
  }
  if (hook.oauthGiven !== undefined) out.oauthGiven = change(hook.oauthGiven);
  if (hook.secretRotation !== undefined)
    out.secretRotation = { ...hook.secretRotation, previous: change(hook.secretRotation.previous) };
  const tls = hook.delivery.tls;
  if (tls !== undefined) {
    const changed: HookTls = { ...tls };
    for (const field of TLS_FIELDS) {
      const value = tls[field];
      if (value !== undefined) changed[field] = change(value);
    }
    out.delivery = { ...hook.delivery, tls: changed };
  }
  return out;
}
