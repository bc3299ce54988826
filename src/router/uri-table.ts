import type { MatchPolicy } from "./ids.js";

/**
 * `string`: WAMP's prefix matching (`a.b` matches `a.bc`), as the spec and Crossbar do.
 * `segment`: a prefix only matches whole URI components (`a.b` matches `a.b` and `a.b.c`, not `a.bc`).
 */
export type PrefixMode = "string" | "segment";

interface WildcardEntry<T> {
  readonly parts: readonly string[];
  readonly specificity: number;
  readonly value: T;
}

/** Registrations or subscriptions keyed by (uri, match policy). */
export class UriTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefix = new Map<string, T>();
  private readonly wildcard = new Map<string, WildcardEntry<T>>();

  constructor(private readonly prefixMode: PrefixMode) {}

  get(uri: string, match: MatchPolicy): T | undefined {
    if (match === "exact") return this.exact.get(uri);
    if (match === "prefix") return this.prefix.get(uri);
    return this.wildcard.get(uri)?.value;
  }

  set(uri: string, match: MatchPolicy, value: T): void {
    if (match === "exact") this.exact.set(uri, value);
    else if (match === "prefix") this.prefix.set(uri, value);
    else {
      const parts = uri.split(".");
      this.wildcard.set(uri, { parts, specificity: parts.filter((p) => p !== "").length, value });
    }
  }

  delete(uri: string, match: MatchPolicy): void {
    if (match === "exact") this.exact.delete(uri);
    else if (match === "prefix") this.prefix.delete(uri);
    else this.wildcard.delete(uri);
  }

  /** The single best match: exact, then the longest prefix, then the most specific wildcard. */
  best(uri: string): T | undefined {
    const exact = this.exact.get(uri);
    if (exact !== undefined) return exact;
    let best: T | undefined;
    let bestLength = -1;
    for (const [prefix, value] of this.prefix) {
      if (prefix.length > bestLength && this.prefixMatches(uri, prefix)) {
        best = value;
        bestLength = prefix.length;
      }
    }
    if (best !== undefined) return best;
    let bestSpecificity = -1;
    if (this.wildcard.size === 0) return undefined;
    const parts = uri.split(".");
    for (const entry of this.wildcard.values()) {
      if (entry.specificity > bestSpecificity && wildcardMatches(parts, entry.parts)) {
        best = entry.value;
        bestSpecificity = entry.specificity;
      }
    }
    return best;
  }

  /** Every match (for the broker). */
  all(uri: string, out: T[]): T[] {
    const exact = this.exact.get(uri);
    if (exact !== undefined) out.push(exact);
    for (const [prefix, value] of this.prefix) if (this.prefixMatches(uri, prefix)) out.push(value);
    if (this.wildcard.size > 0) {
      const parts = uri.split(".");
      for (const entry of this.wildcard.values()) if (wildcardMatches(parts, entry.parts)) out.push(entry.value);
    }
    return out;
  }

  values(): IterableIterator<T> {
    return [...this.exact.values(), ...this.prefix.values(), ...[...this.wildcard.values()].map((e) => e.value)].values();
  }

  private prefixMatches(uri: string, prefix: string): boolean {
    return prefixMatches(uri, prefix, this.prefixMode);
  }
}

export function prefixMatches(uri: string, prefix: string, mode: PrefixMode): boolean {
  if (!uri.startsWith(prefix)) return false;
  if (mode === "string" || uri.length === prefix.length || prefix.endsWith(".")) return true;
  return uri.charCodeAt(prefix.length) === 46; // "."
}

export function wildcardMatches(uriParts: readonly string[], patternParts: readonly string[]): boolean {
  if (uriParts.length !== patternParts.length) return false;
  for (let i = 0; i < patternParts.length; i++) {
    const p = patternParts[i];
    if (p !== "" && p !== uriParts[i]) return false;
  }
  return true;
}
