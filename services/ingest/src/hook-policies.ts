import type { Integration } from "@hookwire/manifest";
import { type CompiledPolicy, compilePolicy } from "@hookwire/policy";
import type { Hook } from "@hookwire/store";

/**
 * Compiled policies, one per hook revision: compiling happens when a hook changes, never per
 * entry. A hook without its own statements uses its integration's defaultPolicy.
 */
export class HookPolicies {
  readonly #compiled = new Map<string, { revision: number; policy: CompiledPolicy }>();

  for(hook: Hook, integration: Integration): CompiledPolicy {
    const cached = this.#compiled.get(hook.id);
    if (cached !== undefined && cached.revision === hook.revision) return cached.policy;
    const policy = compilePolicy(hook.policy ?? integration.defaultPolicy);
    this.#compiled.set(hook.id, { revision: hook.revision, policy });
    return policy;
  }
}
