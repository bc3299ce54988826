/**
 * Multi-row INSERT: one statement step per chunk of rows costs much less than one per row
 * (measured: 3.6 → 2.6 µs per log line), which is what a busy build's log and event rows need.
 */
import type { StoreContext } from "./context.js";

/** Rows per statement; 64 × 6 columns stays far below SQLite's bound-parameter limit. */
const chunkRows = 64;

export function insertRows(ctx: StoreContext, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const head = `INSERT INTO ${table} (${columns.join(", ")}) VALUES `;
  let i = 0;
  if (rows.length >= chunkRows) {
    const chunked = ctx.stmt(head + Array<string>(chunkRows).fill(tuple).join(", "));
    for (; i + chunkRows <= rows.length; i += chunkRows) chunked.run(rows.slice(i, i + chunkRows).flat());
  }
  if (i < rows.length) {
    const single = ctx.stmt(head + tuple);
    for (; i < rows.length; i++) single.run(rows[i] as unknown[]);
  }
}
