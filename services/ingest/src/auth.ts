import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiKey, Scope } from "@hookwire/config";
import type { FastifyRequest } from "fastify";
import { ApiError } from "./errors";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health, docs, dashboard). */
    scope?: Scope;
  }
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
}

/** Failed authentications one client address may make in a window before it is refused. */
export const AUTH_FAILURES_PER_WINDOW = 20;
const AUTH_FAILURE_WINDOW_MS = 60_000;
/** Addresses remembered at most; past it, those whose window ended are forgotten first. */
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Bearer API keys. Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the
 * content nor the length of a key leaks through timing.
 *
 * Guessing costs: an address that failed AUTH_FAILURES_PER_WINDOW times in a minute is answered
 * 429 (Retry-After) for the rest of that minute, before any key it sends is looked at, on the
 * API and the queue view alike (both authenticate here). Counted by hand, in memory: the rate-limit
 * plugin counts every request of a key, and cannot count only the failures of an address.
 */
export class ApiKeys {
  readonly #keys: { digest: Buffer; key: ApiKey }[];
  readonly #failures = new Map<string, { count: number; resetAt: number }>();

  constructor(keys: readonly ApiKey[]) {
    this.#keys = keys.map((key) => ({ digest: digest(key.token), key }));
  }

  authenticate(request: Pick<FastifyRequest, "headers" | "ip">, scope: Scope, now = Date.now()): ApiKey {
    const failures = this.#failures.get(request.ip);
    if (failures !== undefined && failures.resetAt <= now) this.#failures.delete(request.ip);
    else if (failures !== undefined && failures.count >= AUTH_FAILURES_PER_WINDOW) {
      const seconds = Math.ceil((failures.resetAt - now) / 1000);
      throw new ApiError(
        "API_ERR_RATE_LIMITED",
        `too many failed authentications from this address; retry in ${seconds} s`,
        { retryAfterSeconds: seconds },
      );
    }
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) {
      this.#failed(request.ip, now);
      throw new ApiError("API_ERR_UNAUTHORIZED", "send an API key as 'Authorization: Bearer <key>'");
    }
    const presented = digest(match[1]!);
    let found: ApiKey | undefined;
    for (const candidate of this.#keys) {
      if (timingSafeEqual(candidate.digest, presented)) found = candidate.key;
    }
    if (found === undefined) {
      this.#failed(request.ip, now);
      throw new ApiError("API_ERR_UNAUTHORIZED", "the API key is not valid");
    }
    if (!found.scopes.has(scope)) {
      throw new ApiError("API_ERR_FORBIDDEN", `this API key lacks the '${scope}' scope this route needs`);
    }
    return found;
  }

  #failed(ip: string, now: number): void {
    const current = this.#failures.get(ip);
    if (current !== undefined) {
      current.count++;
      return;
    }
    if (this.#failures.size >= MAX_TRACKED_ADDRESSES) {
      for (const [address, entry] of this.#failures) if (entry.resetAt <= now) this.#failures.delete(address);
      // Still full (an attack from many addresses): the oldest goes.
      if (this.#failures.size >= MAX_TRACKED_ADDRESSES)
        this.#failures.delete(this.#failures.keys().next().value!);
    }
    this.#failures.set(ip, { count: 1, resetAt: now + AUTH_FAILURE_WINDOW_MS });
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
