/**
 * A Nix-like derivation graph of any size for the benchmark (bench/console.ts): `levels` layers of
 * derivations, each needing one to three others, 60% from the layer just below, the rest from any
 * lower layer, a quarter of those picks going to each layer's first node (the stdenv-like hubs
 * everything needs), and one top-level derivation. Deterministic for a seed. Pure.
 */
import type { GraphResult } from "./api-types.js";

export function syntheticGraph(n: number, seed = 1, levels = 25): GraphResult {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const drv = (i: number) => `/nix/store/${i.toString(32).padStart(32, "0")}-pkg-${i}.drv`;
  const level: number[] = [];
  const byLevel: number[][] = [];
  for (let i = 0; i < n; i++) {
    const lv = i === n - 1 ? levels - 1 : Math.min(levels - 2, Math.floor(Math.pow(random(), 1.3) * (levels - 1)));
    level.push(lv);
    (byLevel[lv] ??= []).push(i);
  }
  const edges: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const lv = level[i] as number;
    if (lv === 0) continue;
    const picks = new Set<number>();
    const k = i === n - 1 ? 8 : 1 + Math.floor(random() * 3);
    for (let j = 0; j < k; j++) {
      const from = random() < 0.6 ? lv - 1 : Math.floor(random() * lv);
      const pool = byLevel[from];
      if (!pool || pool.length === 0) continue;
      const pick = random() < 0.25 ? (pool[0] as number) : (pool[Math.floor(random() * pool.length)] as number);
      if (picks.has(pick)) continue;
      picks.add(pick);
      edges.push([drv(i), drv(pick)]);
    }
  }
  return {
    nodes: Array.from({ length: n }, (_, i) => ({ drv: drv(i), pname: `pkg-${i}`, system: "x86_64-linux", status: "queued", executor: null })),
    edges,
    truncated: false,
  };
}
