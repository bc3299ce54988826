/** Medians and pairwise ratios of interleaved A/B samples. */

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x));
  return { median: median(v), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN };
}

/**
 * Ratio A/B per interleaved pair (run i of A against run i of B, taken back to back, so that
 * both saw much the same machine), summarised as median and range.
 */
export function pairRatios(a: readonly number[], b: readonly number[]): Spread {
  const n = Math.min(a.length, b.length);
  return spread(Array.from({ length: n }, (_, i) => a[i]! / b[i]!));
}
