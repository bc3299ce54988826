/**
 * `build.logs` follow mode. Lines of a sync are handed over straight from the commit that stored
 * them, so a follower of a chatty build costs no read-back from SQLite. SQLite stays the source of
 * truth: the first page, any gap, a derivation filter, the end of the sync and a follower that fell
 * too far behind are all served by reading the store.
 */
import { EventEmitter } from "node:events";
import type { LogLine, LogsResult } from "../core/index.js";
import type { CommitFeed } from "./port.js";

/** Lines held for one follower before it falls back to reading the store. */
const maxHeldLines = 50_000;
/** Re-read the store at least this often, whatever was announced. */
const safetyPollMs = 1_000;

export interface FollowInput {
  readonly sync: string;
  readonly sinceLine: number;
  readonly limit: number;
  readonly derivation?: string | undefined;
  readonly signal: AbortSignal;
}

/**
 * Hands log followers the lines of their sync as they are committed, and tells them of its end:
 * emits `(sync, lines)` after each commit of log lines and `(sync, null)` when the sync ended.
 */
export function committedLogLines(feed: CommitFeed): { readonly emitter: EventEmitter; close(): void } {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const close = feed.onCommit((batch) => {
    for (const l of batch.logs) emitter.emit(l.sync, l.lines);
    for (const e of batch.events) if (e.sync && e.type === "sync.finished") emitter.emit(e.sync, null);
  });
  return { emitter, close };
}

/** Yields the sync's log pages from `sinceLine` on; `committed` is committedLogLines' emitter, `readPage` reads the store. */
export async function* followLogLines(
  committed: EventEmitter,
  input: FollowInput,
  readPage: (sinceLine: number, limit: number) => LogsResult,
): AsyncGenerator<LogsResult> {
  const held: LogLine[] = [];
  let wakeUp: (() => void) | null = null;
  // The store must be read next: the sync ended, or lines were committed that are not held. Set
  // even while a page is being yielded, so no announcement is missed. Until that read (which covers
  // everything committed before it) nothing more is held.
  let mustRead = false;
  const onCommit = (lines: readonly LogLine[] | null): void => {
    if (lines === null || input.derivation !== undefined) mustRead = true;
    else if (!mustRead) {
      if (held.length + lines.length > maxHeldLines) {
        mustRead = true;
        held.length = 0;
      } else for (const l of lines) held.push(l);
    }
    wakeUp?.();
  };
  const onAbort = (): void => wakeUp?.();
  committed.on(input.sync, onCommit);
  input.signal.addEventListener("abort", onAbort);
  let since = input.sinceLine;
  let start = 0; // held[start..] are the lines not yet handed out
  try {
    while (!input.signal.aborted) {
      while (start < held.length && (held[start] as LogLine).line < since) start++;
      let page: LogsResult;
      if (!mustRead && start < held.length && (held[start] as LogLine).line === since) {
        const lines = held.slice(start, start + input.limit);
        start += lines.length;
        page = { lines, next_line: (lines.at(-1) as LogLine).line + 1, complete: false };
      } else {
        mustRead = false;
        held.length = 0;
        start = 0;
        page = readPage(since, input.limit);
      }
      if (start === held.length) {
        held.length = 0;
        start = 0;
      }
      since = page.next_line;
      if (page.lines.length > 0 || page.complete) yield page;
      if (page.complete) return;
      if (page.lines.length === input.limit || start < held.length || mustRead) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, safetyPollMs);
        timer.unref();
        wakeUp = () => {
          clearTimeout(timer);
          wakeUp = null;
          resolve();
        };
      });
    }
  } finally {
    committed.off(input.sync, onCommit);
    input.signal.removeEventListener("abort", onAbort);
  }
}
