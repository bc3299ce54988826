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
export interface UriTable<T> {
  get(uri: string, match: MatchPolicy): T | undefined;
  set(uri: string, match: MatchPolicy, value: T): void;
  delete(uri: string, match: MatchPolicy): void;
  /** The single best match: exact, then the longest prefix, then the most specific wildcard. */
  best(uri: string): T | undefined;
  /** Every match (for the broker), appended to `out`. */
  all(uri: string, out: T[]): T[];
}

export function createUriTable<T>(prefixMode: PrefixMode): UriTable<T> {
  const exact = new Map<string, T>();
  const prefix = new Map<string, T>();
  const wildcard = new Map<string, WildcardEntry<T>>();

  return {
    get(uri, match) {
      if (match === "exact") return exact.get(uri);
      if (match === "prefix") return prefix.get(uri);
      return wildcard.get(uri)?.value;
    },
    set(uri, match, value) {
      if (match === "exact") exact.set(uri, value);
      else if (match === "prefix") prefix.set(uri, value);
      else {
        const parts = uri.split(".");
        wildcard.set(uri, { parts, specificity: parts.filter((p) => p !== "").length, value });
      }
    },
    delete(uri, match) {
      if (match === "exact") exact.delete(uri);
      else if (match === "prefix") prefix.delete(uri);
      else wildcard.delete(uri);
    },
    best(uri) {
      const hit = exact.get(uri);
      if (hit !== undefined) return hit;
      let best: T | undefined;
      let bestLength = -1;
      for (const [p, value] of prefix) {
        if (p.length > bestLength && prefixMatches(uri, p, prefixMode)) {
          best = value;
          bestLength = p.length;
        }
      }
      if (best !== undefined || wildcard.size === 0) return best;
      let bestSpecificity = -1;
      const parts = uri.split(".");
      for (const entry of wildcard.values()) {
        if (entry.specificity > bestSpecificity && wildcardMatches(parts, entry.parts)) {
          best = entry.value;
          bestSpecificity = entry.specificity;
        }
      }
      return best;
    },
    all(uri, out) {
      const hit = exact.get(uri);
      if (hit !== undefined) out.push(hit);
      for (const [p, value] of prefix) if (prefixMatches(uri, p, prefixMode)) out.push(value);
      if (wildcard.size > 0) {
        const parts = uri.split(".");
        for (const entry of wildcard.values()) if (wildcardMatches(parts, entry.parts)) out.push(entry.value);
      }
      return out;
    },
  };
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
