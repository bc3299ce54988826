/**
 * Turns a build's rio events into the sync's domain events, counters and log lines. Writes are
 * batched (a flush per tick, or sooner when a batch grows) so a busy build costs a few transactions
 * a second, and the last rio sequence is stored in the same transaction as the events it produced:
 * after a restart, WatchBuild(since = stored sequence) replays exactly what was not yet recorded.
 */
import { basename } from "node:path";
import type { BuildCounters, DerivationEventKind, PendingEvent } from "../core/index.js";
import { assertNever, pendingEvent } from "../core/index.js";
import type { RioEvent } from "../rio/types.js";
import type { NewLogLine, Store } from "../store/index.js";
import { countersAfterFailure, countersAtEnd, countersAtStart, countersFromProgress, noCounters } from "./build-counters.js";

/** Flush when this many log lines or events are waiting, without waiting for the next tick. */
const maxBatch = 2_000;
/** Longest a batch of log lines alone waits before it is written. */
const logFlushMs = 20;

export interface BuildRecorder {
  /** Takes one event (in sequence order). Terminal events are not recorded here. */
  record(event: RioEvent): void;
  /** Writes everything pending now. */
  flush(): void;
  /** The failing derivation and its message, from the per-derivation FAILED event. */
  readonly lastFailure: { readonly drv: string; readonly message: string } | null;
}

/** `/nix/store/<hash>-name.drv` → `name`, for derivations we know nothing else about. */
export function pnameFromDrvPath(drvPath: string): string {
  return basename(drvPath).replace(/^[0-9a-z]{32}-/, "").replace(/\.drv$/, "");
}

/**
 * `stored` is what the sync view already holds (a build re-attached after a restart does not see
 * its BuildStarted again): counters continue from there and never go backwards.
 */
export function createBuildRecorder(
  store: Store,
  syncId: string,
  pnames: ReadonlyMap<string, string>,
  onError: (err: unknown) => void,
  stored: BuildCounters | null = null,
): BuildRecorder {
  let events: PendingEvent[] = [];
  let lines: NewLogLine[] = [];
  /** The sync view's counters as recorded so far; `countersChanged` until the next flush writes them. */
  let counters: BuildCounters = stored ?? noCounters;
  let countersChanged = false;
  let sequence = 0;
  let scheduled = false;
  const failedDerivations = new Set<string>();
  let lastFailure: { drv: string; message: string } | null = null;

  const pname = (drv: string) => pnames.get(drv) ?? pnameFromDrvPath(drv);

  function flush(): void {
    scheduled = false;
    if (lines.length === 0 && events.length === 0 && !countersChanged && sequence === 0) return;
    const batch = { lines, events, counters: countersChanged ? counters : {}, sequence };
    lines = [];
    events = [];
    countersChanged = false;
    sequence = 0;
    try {
      // Log lines first: rio never replays them, so a crash between the two writes loses nothing
      // and duplicates nothing (the replayed non-log events were not yet recorded).
      if (batch.lines.length > 0) store.appendLogLines(syncId, batch.lines);
      // A batch of log lines alone has nothing else to record: skip the second transaction.
      if (batch.events.length > 0 || batch.sequence > 0 || Object.keys(batch.counters).length > 0) {
        store.recordSyncProgress(syncId, {
          ...(batch.sequence > 0 ? { rioSequence: batch.sequence } : {}),
          counters: batch.counters,
          events: batch.events,
        });
      }
    } catch (err) {
      onError(err);
    }
  }

  let timer: NodeJS.Timeout | null = null;
  let immediate = false;

  function flushNow(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    immediate = false;
    flush();
  }

  function schedule(): void {
    if (lines.length + events.length >= maxBatch) flushNow();
    else if (events.length > 0 || sequence > 0 || countersChanged) {
      // Events go out on the next turn (the latency clients see).
      if (!immediate) {
        immediate = true;
        scheduled = true;
        setImmediate(flushNow);
      }
    } else if (!scheduled) {
      // Log lines alone wait up to logFlushMs, so a chatty build costs a few transactions a second.
      scheduled = true;
      timer = setTimeout(flushNow, logFlushMs);
    }
  }

  function setCounters(next: BuildCounters): void {
    counters = next;
    countersChanged = true;
  }

  function derivationEvent(drv: string, kind: DerivationEventKind, error?: string): void {
    events.push(pendingEvent("derivation", syncId, { drv, pname: pname(drv), kind, ...(error ? { error } : {}) }));
  }

  return {
    get lastFailure() {
      return lastFailure;
    },
    flush: flushNow,
    record(e) {
      switch (e.type) {
        case "started":
          setCounters(countersAtStart(counters, e.totalDerivations, e.cachedDerivations));
          events.push(pendingEvent("build.started", syncId, { total: e.totalDerivations, cached: e.cachedDerivations }));
          break;
        case "progress":
          setCounters(countersFromProgress(counters, e));
          events.push(pendingEvent("build.progress", syncId, counters));
          break;
        case "derivation":
          if (e.kind === "queued") break;
          if (e.kind === "failed") {
            failedDerivations.add(e.derivation);
            setCounters(countersAfterFailure(counters, failedDerivations.size));
            lastFailure = { drv: e.derivation, message: e.errorMessage };
            derivationEvent(e.derivation, "failed", e.errorMessage || e.failureStatus || "failed");
          } else {
            derivationEvent(e.derivation, e.kind);
          }
          break;
        case "log":
          for (const text of e.lines) lines.push({ source: "build", derivation: e.derivation, text });
          break;
        case "inputs_resolved":
        case "phase":
          // No domain event of their own; the sequence still advances below.
          break;
        case "completed":
        case "failed":
        case "cancelled": {
          // rio's last progress event may predate the end: settle the counters the sync view keeps.
          setCounters(countersAtEnd(counters, e.type === "completed"));
          events.push(pendingEvent("build.progress", syncId, counters));
          // The terminal's own sequence is not recorded: re-attaching after it must still see it.
          schedule();
          return;
        }
        default:
          assertNever(e, "rio event");
      }
      // Log events are never replayed by rio, so only the sequences of replayable events count.
      if (e.type !== "log") sequence = Math.max(sequence, e.sequence);
      schedule();
    },
  };
}
