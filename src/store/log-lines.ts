/**
 * Build and deploy output per sync. Lines are numbered per sync from 0 without gaps, across build
 * and deploy output. Trimming: a sync keeps at least its last `limits.logLinesKeptPerSync` lines
 * (default 100,000). When more than that plus a slack of 10% (at least 1,000) are stored, the
 * oldest are deleted down to exactly the cap, in the same transaction as the append; so the
 * deletion cost is amortised and the stored count stays within [cap, cap + slack].
 * `log_first_line` tells readers where the stored lines start.
 */
import { isTerminalSyncState } from "../core/index.js";
import { AppError } from "../errors.js";
import type { LogLine, LogSource, StoreContext } from "./context.js";
import { rowInserter } from "../sqlite-insert.js";
import { findSync, requireSync } from "./lookups.js";

/** Longest stored log line, in UTF-16 code units; longer lines are split. */
export const maxLogLineChars = 64 * 1024;

export interface NewLogLine {
  readonly source: LogSource;
  readonly derivation?: string | null;
  readonly text: string;
}

export interface AppendLogResult {
  readonly lines: LogLine[];
  /** The next line number to be handed out. */
  readonly nextLine: number;
}

const insertLogLines = rowInserter("log_lines", ["sync_n", "line", "source", "derivation", "text"]);

export function appendLogLines(ctx: StoreContext, syncId: string, lines: readonly NewLogLine[]): AppendLogResult {
  return ctx.write((log) => {
    const row = requireSync(ctx, syncId);
    if (isTerminalSyncState(row.state)) throw new AppError("conflict", `sync ${syncId} is ${row.state}: its log is complete`);
    let line = row.log_next_line;
    const stored: LogLine[] = [];
    for (const l of lines) {
      const derivation = l.derivation ?? null;
      // A line longer than the cap is stored as several lines (nothing is dropped), so one
      // chatty builder line never becomes a multi-megabyte row, event or build.logs page.
      for (let at = 0; at === 0 || at < l.text.length; at += maxLogLineChars) {
        const text = l.text.length <= maxLogLineChars ? l.text : l.text.slice(at, at + maxLogLineChars);
        stored.push({ line, source: l.source, derivation, text });
        line += 1;
      }
    }
    insertLogLines(ctx.db, stored.map((r) => [row.n, r.line, r.source, r.derivation, r.text]));
    let first = row.log_first_line;
    const cap = ctx.limits.logLinesKeptPerSync;
    const slack = Math.max(1000, Math.floor(cap / 10));
    if (line - first > cap + slack) {
      first = line - cap;
      ctx.stmt("DELETE FROM log_lines WHERE sync_n = ? AND line < ?").run(row.n, first);
    }
    ctx.stmt("UPDATE syncs SET log_next_line = ?, log_first_line = ? WHERE n = ?").run(line, first, row.n);
    if (stored.length > 0) log.logs.push({ tenant: row.tenant, deployment: row.deployment, sync: syncId, lines: stored });
    return { lines: stored, nextLine: line };
  });
}

export interface LogPage {
  readonly lines: LogLine[];
  /** The line to pass as `since_line` next time. */
  readonly next_line: number;
  /** True when the sync is terminal and every stored line up to its end was returned. */
  readonly complete: boolean;
  /** The oldest line still stored (lines below were trimmed). */
  readonly first_line: number;
}

/**
 * Lines of a sync of this tenant's deployment from `sinceLine` (inclusive), at most `limit`,
 * optionally of one derivation only. not_found when the sync is not in that deployment.
 */
export function logLines(
  ctx: StoreContext,
  tenant: string,
  deployment: string,
  syncId: string,
  options: { readonly sinceLine?: number; readonly limit?: number; readonly derivation?: string } = {},
): LogPage {
  const row = findSync(ctx, syncId);
  if (!row || row.tenant !== tenant || row.deployment !== deployment) {
    throw new AppError("not_found", `no sync ${syncId} in deployment ${deployment}`);
  }
  const since = Math.max(options.sinceLine ?? 0, row.log_first_line);
  const limit = options.limit ?? 1000;
  const rows = (
    options.derivation === undefined
      ? ctx.stmt("SELECT line, source, derivation, text FROM log_lines WHERE sync_n = ? AND line >= ? ORDER BY line LIMIT ?").all(row.n, since, limit)
      : ctx
          .stmt("SELECT line, source, derivation, text FROM log_lines WHERE sync_n = ? AND derivation = ? AND line >= ? ORDER BY line LIMIT ?")
          .all(row.n, options.derivation, since, limit)
  ) as LogLine[];
  const last = rows.at(-1);
  const next = rows.length === limit && last ? last.line + 1 : Math.max(since, row.log_next_line);
  return {
    lines: rows,
    next_line: next,
    complete: isTerminalSyncState(row.state) && next >= row.log_next_line,
    first_line: row.log_first_line,
  };
}
