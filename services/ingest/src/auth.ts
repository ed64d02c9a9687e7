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

/**
 * Bearer API keys. Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the
 * content nor the length of a key leaks through timing.
 */
export class ApiKeys {
  readonly #keys: { digest: Buffer; key: ApiKey }[];

  constructor(keys: readonly ApiKey[]) {
    this.#keys = keys.map((key) => ({ digest: digest(key.token), key }));
  }

  authenticate(request: FastifyRequest, scope: Scope): ApiKey {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) {
      throw new ApiError("API_ERR_UNAUTHORIZED", "send an API key as 'Authorization: Bearer <key>'");
    }
    const presented = digest(match[1]!);
    let found: ApiKey | undefined;
    for (const candidate of this.#keys) {
      if (timingSafeEqual(candidate.digest, presented)) found = candidate.key;
    }
    if (found === undefined) throw new ApiError("API_ERR_UNAUTHORIZED", "the API key is not valid");
    if (!found.scopes.has(scope)) {
      throw new ApiError("API_ERR_FORBIDDEN", `this API key lacks the '${scope}' scope this route needs`);
    }
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
