/**
 * Multi-row INSERT for better-sqlite3: one statement step per chunk of rows costs much less than one
 * per row (measured: 3.6 → 2.6 µs per log line). Used by the store (events, log lines) and by the
 * local scheduler (build events).
 */
import type { Database, Statement } from "better-sqlite3";

/** Rows per statement; 64 × 6 columns stays far below SQLite's bound-parameter limit. */
const chunkRows = 64;

/** Writes rows of the inserter's columns, in order, on `db`. */
export type RowInserter = (db: Database, rows: readonly (readonly unknown[])[]) => void;

export function rowInserter(table: string, columns: readonly string[], verb = "INSERT"): RowInserter {
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const head = `${verb} INTO ${table} (${columns.join(", ")}) VALUES `;
  // Prepared once per database: the hot path only runs them.
  const prepared = new WeakMap<Database, { single: Statement; chunk: Statement }>();
  const statementsFor = (db: Database) => {
    let s = prepared.get(db);
    if (s === undefined) {
      s = { single: db.prepare(head + tuple), chunk: db.prepare(head + Array<string>(chunkRows).fill(tuple).join(", ")) };
      prepared.set(db, s);
    }
    return s;
  };
  return (db, rows) => {
    const { single, chunk } = statementsFor(db);
    let i = 0;
    for (; i + chunkRows <= rows.length; i += chunkRows) chunk.run(rows.slice(i, i + chunkRows).flat());
    for (; i < rows.length; i++) single.run(rows[i] as unknown[]);
  };
}
