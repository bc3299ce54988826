/** The table (and JSON) that bench/peers.ts prints: medians per column, ratios of interleaved pairs. */
import { pairRatios, spread, type Spread } from "./stats.js";

export interface Row {
  readonly label: string;
  readonly unit: "rate" | "us" | "kib";
  /** True when a higher value is better (throughput); false for CPU time and memory. */
  readonly higherIsBetter: boolean;
  /** Samples per column, in run order (index i of every column belongs to pair i). */
  readonly samples: Readonly<Record<string, readonly number[]>>;
}

export interface Section {
  readonly title: string;
  /** Columns in run order; the first is the subject, ratios are first ÷ each other. */
  readonly columns: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
}

export interface RowSummary {
  readonly label: string;
  readonly unit: Row["unit"];
  readonly higherIsBetter: boolean;
  readonly samples: Row["samples"];
  readonly medians: Readonly<Record<string, Spread>>;
  /** subject ÷ column, per pair: median and range. */
  readonly ratios: Readonly<Record<string, Spread>>;
}

export function summarise(row: Row, columns: readonly string[]): RowSummary {
  const subject = columns[0]!;
  const medians: Record<string, Spread> = {};
  const ratios: Record<string, Spread> = {};
  for (const c of columns) medians[c] = spread(row.samples[c] ?? []);
  for (const c of columns.slice(1)) ratios[c] = pairRatios(row.samples[subject] ?? [], row.samples[c] ?? []);
  return { label: row.label, unit: row.unit, higherIsBetter: row.higherIsBetter, samples: row.samples, medians, ratios };
}

function fmtValue(v: number, unit: Row["unit"]): string {
  if (!Number.isFinite(v)) return "–";
  switch (unit) {
    case "rate":
      return Math.round(v).toLocaleString("en-US");
    case "us":
      return v.toFixed(1);
    case "kib":
      return v.toFixed(2);
    default: {
      const never: never = unit;
      return String(never);
    }
  }
}

const fmtRatio = (r: Spread): string =>
  Number.isFinite(r.median) ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : "–";

export function renderSection(section: Section): string {
  const subject = section.columns[0]!;
  const others = section.columns.slice(1);
  const header = [
    "",
    ...section.columns.map((c) => `${section.headers[c] ?? c}`),
    ...others.map((c) => `${subject}/${c}`),
  ];
  const lines: string[][] = [header];
  for (const row of section.rows) {
    const s = summarise(row, section.columns);
    const label = `${row.label} (${row.higherIsBetter ? "higher" : "lower"} is better)`;
    lines.push([
      label,
      ...section.columns.map((c) => {
        const m = s.medians[c]!;
        if (!Number.isFinite(m.median)) return "–";
        // Half the range, relative to the median: how far apart this column's runs were.
        const half = m.median !== 0 ? ((m.max - m.min) / 2 / Math.abs(m.median)) * 100 : 0;
        return `${fmtValue(m.median, row.unit)} ±${half.toFixed(0)}%`;
      }),
      ...others.map((c) => fmtRatio(s.ratios[c]!)),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? "").length)));
  const text = lines.map((l) => l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd());
  return [section.title, ...text, ...section.notes.map((n) => `  note: ${n}`)].join("\n");
}
