/**
 * The one global derivation table keyed by drv path (rio's global DAG): each derivation exists
 * once whatever number of builds want it, carries the set of interested builds, and becomes ready
 * once every child is completed. Pure bookkeeping; the engine starts and stops processes.
 */
import type { RunningRealise } from "./nix-realise.js";
import { createReadyQueue } from "./ready-queue.js";

/** rio's derivation status names (GraphNode.status); `created` is never used here. */
export type DrvStatus = "queued" | "ready" | "running" | "completed" | "failed" | "dependency_failed" | "cancelled";

export interface DrvRun {
  readonly proc: RunningRealise;
  readonly slot: string;
  readonly startedAt: number;
  cancelled: boolean;
}

export interface DrvEntry {
  readonly drvPath: string;
  readonly drvHash: string;
  readonly pname: string;
  readonly system: string;
  readonly outputNames: readonly string[];
  readonly outputPaths: readonly string[];
  readonly children: Set<string>;
  readonly parents: Set<string>;
  readonly interested: Set<string>;
  status: DrvStatus;
  run?: DrvRun;
  lastExecutor: string;
}

export function isDone(s: DrvStatus): boolean {
  return s === "completed" || s === "failed" || s === "dependency_failed" || s === "cancelled";
}

/** `isInteractive`: whether any build interested in the derivation is `interactive` (rio's boost). */
export function createDerivationTable(isInteractive: (e: DrvEntry) => boolean) {
  const entries = new Map<string, DrvEntry>();
  const ready = createReadyQueue<DrvEntry>((e) => (isInteractive(e) ? 1e9 : 0) + criticalPath(e));
  let critical = new Map<string, number>();
  const durations = new Map<string, number>(); // pname → last build seconds

  const estimate = (e: DrvEntry): number => durations.get(e.pname) ?? 1;

  /** Seconds on the longest chain from this node up to a root, itself included. */
  function criticalPath(e: DrvEntry): number {
    const known = critical.get(e.drvPath);
    if (known !== undefined) return known;
    // Iterative post-order over parents so deep chains do not overflow the stack.
    const stack: [DrvEntry, boolean][] = [[e, false]];
    while (stack.length > 0) {
      const [cur, expanded] = stack.pop()!;
      if (critical.has(cur.drvPath)) continue;
      if (!expanded) {
        stack.push([cur, true]);
        for (const p of cur.parents) {
          const pe = entries.get(p);
          if (pe && !critical.has(p)) stack.push([pe, false]);
        }
        continue;
      }
      let best = 0;
      for (const p of cur.parents) best = Math.max(best, critical.get(p) ?? 0);
      critical.set(cur.drvPath, best + estimate(cur));
    }
    return critical.get(e.drvPath) ?? 0;
  }

  return {
    entries,
    get: (p: string) => entries.get(p),
    estimate,
    recordDuration(e: DrvEntry, secs: number) {
      durations.set(e.pname, Math.max(0.1, secs));
    },
    /** Called after a merge changed the graph or the interested builds. */
    invalidateCriticalPaths() {
      critical = new Map();
      ready.rescore();
    },
    setStatus(e: DrvEntry, status: DrvStatus) {
      if (e.status === "ready") ready.delete(e);
      e.status = status;
      if (status === "ready") ready.add(e);
    },
    /** queued → ready when every child is completed. */
    promote(e: DrvEntry): boolean {
      if (e.status !== "queued") return false;
      for (const c of e.children) {
        if (entries.get(c)?.status !== "completed") return false;
      }
      this.setStatus(e, "ready");
      return true;
    },
    readyCount: () => ready.size,
    /** The next derivation to run: interactive first, then the longest critical path. */
    takeNext: (): DrvEntry | undefined => ready.pop(),
    /**
     * Drops finished derivations nobody wants any more, so a long-running scheduler does not keep
     * every derivation it ever saw. Only entries without parents in the table go (a parent still
     * present would otherwise wait forever on a missing child); their children are tried next.
     */
    prune(paths: Iterable<string>): number {
      let removed = 0;
      const stack = [...paths];
      while (stack.length > 0) {
        const p = stack.pop()!;
        const e = entries.get(p);
        if (!e || e.interested.size > 0 || e.run || !isDone(e.status)) continue;
        if ([...e.parents].some((q) => entries.has(q))) continue;
        entries.delete(p);
        ready.delete(e);
        removed++;
        for (const c of e.children) {
          entries.get(c)?.parents.delete(p);
          stack.push(c);
        }
      }
      return removed;
    },
    /** Not-yet-done ancestors of a node (for dependency-failed cascades). */
    pendingAncestors(e: DrvEntry): DrvEntry[] {
      const out: DrvEntry[] = [];
      const seen = new Set<string>();
      const stack = [...e.parents];
      while (stack.length > 0) {
        const p = stack.pop()!;
        if (seen.has(p)) continue;
        seen.add(p);
        const pe = entries.get(p);
        if (!pe || (pe.status !== "queued" && pe.status !== "ready")) continue;
        out.push(pe);
        stack.push(...pe.parents);
      }
      return out;
    },
  };
}

export type DerivationTable = ReturnType<typeof createDerivationTable>;
