/**
 * A statement's resource specifier compiled for matching concrete resources: types level by
 * level (the same types in the same order, so `proj/*` never matches a flag), keys by glob, and
 * at each level every tag the specifier lists must match one of the resource's tags there (AND);
 * a level without tags ignores the resource's tags.
 */
import type { ConcreteResource } from "./concrete-resource";
import { Glob } from "./glob";
import { printSpecifier, type ResourceSpecifier } from "./specifier";

export class ResourceMatcher {
  /** The specifier as written. */
  readonly text: string;
  private readonly shape: string;
  private readonly types: readonly string[];
  private readonly keys: readonly Glob[];
  /** Per level, the tag patterns that must all be present; null for a level without tags. */
  private readonly tags: readonly (readonly Glob[] | null)[];
  private readonly hasTags: boolean;

  constructor(specifier: ResourceSpecifier) {
    this.text = printSpecifier(specifier);
    if (specifier.kind === "acct") {
      this.shape = "acct";
      this.types = ["acct"];
      this.keys = [];
      this.tags = [];
      this.hasTags = false;
      return;
    }
    this.types = specifier.levels.map((level) => level.type);
    this.shape = this.types.join(":");
    this.keys = specifier.levels.map((level) => new Glob(level.key));
    this.tags = specifier.levels.map((level) =>
      level.tags.length === 0 ? null : level.tags.map((tag) => new Glob(tag)),
    );
    this.hasTags = this.tags.some((tags) => tags !== null);
  }

  matches(resource: ConcreteResource): boolean {
    if (resource.shape !== this.shape) return false;
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (!keys[i]!.match(resource.keys[i]!)) return false;
    }
    if (!this.hasTags) return true;
    for (let i = 0; i < this.tags.length; i++) {
      const wanted = this.tags[i];
      if (wanted === null || wanted === undefined) continue;
      const present = resource.tags[i]!;
      for (let j = 0; j < wanted.length; j++) {
        if (!someTagMatches(wanted[j]!, present)) return false;
      }
    }
    return true;
  }

  /** Why `resource` does not match, for `explain`; null when it does. */
  mismatch(resource: ConcreteResource): string | null {
    if (resource.shape !== this.shape) {
      return `its types ${resource.shape} differ from ${this.shape}`;
    }
    for (let i = 0; i < this.keys.length; i++) {
      const key = resource.keys[i]!;
      if (!this.keys[i]!.match(key)) {
        // A literal "*" is how an entry says "all of them" (an all-environments flag change).
        const all = key === "*" ? " (all of them, which only a * pattern covers)" : "";
        return `${this.types[i]} key ${JSON.stringify(key)}${all} does not match ${JSON.stringify(this.keys[i]!.source)}`;
      }
      for (const pattern of this.tags[i] ?? []) {
        if (!someTagMatches(pattern, resource.tags[i]!)) {
          return `${this.types[i]} has no tag matching ${JSON.stringify(pattern.source)}`;
        }
      }
    }
    return null;
  }
}

function someTagMatches(pattern: Glob, tags: readonly string[]): boolean {
  for (let i = 0; i < tags.length; i++) {
    if (pattern.match(tags[i]!)) return true;
  }
  return false;
}
