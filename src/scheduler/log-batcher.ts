/**
 * Build log lines of running derivations: kept in one ring per derivation for GetBuildLogs while it
 * runs, and sent to every interested build as BuildLogBatch events of up to `batchLines` lines or
 * `batchMs` old (rio's executors batch 64 lines / 100 ms).
 */
import type { BuildRegistry } from "./build-registry.js";
import type { DrvEntry } from "./derivation-table.js";
import { createLogRing, type LogRing } from "./log-ring.js";

export interface LogBatcher {
  /** A new run of this derivation: a fresh ring, numbering from 0 (rio discards the old one). */
  begin(e: DrvEntry): void;
  line(e: DrvEntry, line: Buffer): void;
  /** Sends what is pending for this derivation now. */
  flush(e: DrvEntry): void;
  /** The run is over: its live ring goes (GetBuildLogs then reads the stored log). */
  end(e: DrvEntry): void;
  /** Live lines numbered >= since, or undefined when the derivation has no live ring. */
  snapshot(drvPath: string, since: number): { first: number; lines: Buffer[] } | undefined;
  dispose(): void;
}

interface PendingBatch {
  readonly lines: Buffer[];
  readonly first: number;
  timer?: NodeJS.Timeout;
}

export function createLogBatcher(registry: BuildRegistry, opts: { readonly batchMs: number; readonly batchLines: number }): LogBatcher {
  const rings = new Map<string, LogRing>();
  const pending = new Map<string, PendingBatch>();
  let disposed = false;

  function flush(e: DrvEntry): void {
    const batch = pending.get(e.drvPath);
    if (!batch) return;
    pending.delete(e.drvPath);
    if (batch.timer) clearTimeout(batch.timer);
    if (batch.lines.length === 0 || disposed) return;
    for (const id of e.interest.keys()) {
      const b = registry.get(id);
      if (!b) continue;
      registry.emit(b, {
        case: "log",
        value: { derivationPath: e.drvPath, lines: batch.lines, firstLineNumber: BigInt(batch.first), executorId: e.lastExecutor },
      });
    }
  }

  return {
    begin(e) {
      rings.set(e.drvPath, createLogRing());
    },
    line(e, line) {
      let ring = rings.get(e.drvPath);
      if (!ring) {
        ring = createLogRing();
        rings.set(e.drvPath, ring);
      }
      const n = ring.push(line);
      let batch = pending.get(e.drvPath);
      if (!batch) {
        batch = { lines: [], first: n };
        pending.set(e.drvPath, batch);
      }
      batch.lines.push(line);
      if (batch.lines.length >= opts.batchLines) flush(e);
      else if (!batch.timer) batch.timer = setTimeout(() => flush(e), opts.batchMs);
    },
    flush,
    end(e) {
      rings.delete(e.drvPath);
    },
    snapshot(drvPath, since) {
      return rings.get(drvPath)?.since(since);
    },
    dispose() {
      disposed = true;
      for (const b of pending.values()) if (b.timer) clearTimeout(b.timer);
      pending.clear();
    },
  };
}
