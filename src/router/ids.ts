import { randomFillSync } from "node:crypto";

/** Random ids in [1, 2^53], drawn from a pooled CSPRNG buffer (publication ids are hot). */
const pool = Buffer.alloc(8 * 1024);
let offset = pool.length;

export function randomId(): number {
  for (;;) {
    if (offset + 8 > pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const high = pool.readUInt32BE(offset) & 0x1fffff;
    const low = pool.readUInt32BE(offset + 4);
    offset += 8;
    const id = high * 0x1_0000_0000 + low;
    if (id !== 0) return id;
  }
}

const looseUri = /^([^\s.#]+\.)*([^\s.#]+)$/;
const strictUri = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;
const loosePatternUri = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;
const strictPatternUri = /^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?$/;

export type UriCheck = "loose" | "strict";
export type MatchPolicy = "exact" | "prefix" | "wildcard";

export function isValidUri(uri: unknown, check: UriCheck, match: MatchPolicy = "exact"): uri is string {
  if (typeof uri !== "string" || uri.length === 0) return false;
  if (match === "exact") return (check === "strict" ? strictUri : looseUri).test(uri);
  return (check === "strict" ? strictPatternUri : loosePatternUri).test(uri);
}

export function readMatchPolicy(value: unknown): MatchPolicy | undefined {
  if (value === undefined || value === "exact") return "exact";
  if (value === "prefix" || value === "wildcard") return value;
  return undefined;
}
