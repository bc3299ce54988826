/**
 * The one global derivation table keyed by drv path (rio's global DAG): each derivation exists
 * once whatever number of builds want it, carries the builds interested in it, and becomes ready
 * once every child is completed. Every status change goes through `setStatus`, which keeps the
 * ready queue in step and tells the owner (durable rows, progress) through one hook. Pure
 * bookkeeping: the dispatcher starts and stops processes.
 */
import { createReadyQueue } from "./ready-queue.js";
import type { PriorityClassName, SubmittedNode } from "./validate-submit.js";

/**
 * rio's derivation status names (GraphNode.status) that this scheduler uses. `poisoned` is a
 * permanent failure, `cancelled` also ends a derivation whose timeout retries ran out (as in rio's
 * handle_timeout_failure); rio's transient `failed` (mid-retry), `created`, `assigned`,
 * `substituting` and `skipped` never occur here.
 */
export type DrvStatus = "queued" | "ready" | "running" | "completed" | "poisoned" | "dependency_failed" | "cancelled";

export interface DrvEntry {
  readonly drvPath: string;
  readonly drvHash: string;
  readonly pname: string;
  readonly system: string;
  readonly outputNames: readonly string[];
  readonly outputPaths: readonly string[];
  readonly children: ReadonlySet<string>;
  readonly parents: ReadonlySet<string>;
  /** Build id → its priority class: the derivation's queue priority is the highest of them. */
  readonly interest: Map<string, PriorityClassName>;
  /** Changed only by the table's setStatus. */
  readonly status: DrvStatus;
  /** The slot that ran it last ("" = never dispatched); rio's assigned_executor_id. */
  lastExecutor: string;
  /** Re-dispatches after a timeout so far (rio's retry.timeout_count). */
  timeoutRetries: number;
}

interface MutableEntry extends Omit<DrvEntry, "status" | "children" | "parents"> {
  status: DrvStatus;
  readonly children: Set<string>;
  readonly parents: Set<string>;
}

export function isDone(s: DrvStatus): boolean {
  return s === "completed" || s === "poisoned" || s === "dependency_failed" || s === "cancelled";
}

/** rio's INTERACTIVE_BOOST: dominates any critical-path difference. */
const interactiveBoost = 1e9;

export interface DerivationTableHooks {
  /** Whether some executor builds this system; a ready derivation for none waits unqueued. */
  readonly isRoutable: (system: string) => boolean;
  /** After every status change (durable rows, progress of the interested builds). */
  readonly onStatusChange: (e: DrvEntry, previous: DrvStatus) => void;
  /** A system just got its first ready derivation that nothing can build (rio warns once). */
  readonly onUnroutable: (system: string, e: DrvEntry) => void;
}

export interface DerivationTable {
  get(drvPath: string): DrvEntry | undefined;
  values(): IterableIterator<DrvEntry>;
  readonly size: number;
  /** A new entry (status `queued`, no interest yet); the caller links edges and adds interest. */
  add(node: SubmittedNode): DrvEntry;
  link(parent: DrvEntry, child: DrvEntry): void;
  /** The one place a derivation's status changes. */
  setStatus(e: DrvEntry, status: DrvStatus): void;
  /** queued → ready when every child is completed. */
  promote(e: DrvEntry): boolean;
  /** Ready derivations some executor can build. */
  readonly readyCount: number;
  /** The next derivation to run: interactive first, then the longest critical path. */
  takeNext(): DrvEntry | undefined;
  /** After a merge changed the graph or the interested builds: scores are recomputed. */
  invalidateCriticalPaths(): void;
  estimate(e: DrvEntry): number;
  recordDuration(e: DrvEntry, secs: number): void;
  /**
   * Drops finished derivations nobody wants any more, so a long-running scheduler does not keep
   * every derivation it ever saw. Only entries without parents in the table go (a parent still
   * present would otherwise wait forever on a missing child); their children are tried next.
   */
  prune(paths: Iterable<string>): number;
  /** Not-yet-done ancestors of a node (for dependency-failed cascades). */
  pendingAncestors(e: DrvEntry): DrvEntry[];
}

export function createDerivationTable(hooks: DerivationTableHooks): DerivationTable {
  const entries = new Map<string, MutableEntry>();
  const ready = createReadyQueue<DrvEntry>((e) => (isInteractive(e) ? interactiveBoost : 0) + criticalPath(e));
  /** Ready derivations of systems no executor builds, by system (rio defers them, unrouted). */
  const parked = new Map<string, Set<DrvEntry>>();
  let critical = new Map<string, number>();
  const durations = new Map<string, number>(); // pname → last build seconds

  const estimate = (e: DrvEntry): number => durations.get(e.pname) ?? 1;
  const mutable = (e: DrvEntry): MutableEntry => e as MutableEntry;

  /**
   * rio's queue_priority: the boost applies if any interested build is interactive. Read from the
   * entry itself, so a merge's rescore sees the interest it just added.
   */
  function isInteractive(e: DrvEntry): boolean {
    for (const c of e.interest.values()) if (c === "interactive") return true;
    return false;
  }

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

  function enterReady(e: DrvEntry): void {
    if (hooks.isRoutable(e.system)) {
      ready.add(e);
      return;
    }
    let set = parked.get(e.system);
    if (!set) {
      set = new Set();
      parked.set(e.system, set);
    }
    set.add(e);
    if (set.size === 1) hooks.onUnroutable(e.system, e);
  }

  function leaveReady(e: DrvEntry): void {
    ready.delete(e);
    const set = parked.get(e.system);
    if (set?.delete(e) && set.size === 0) parked.delete(e.system); // re-arms the warning
  }

  function setStatus(e: DrvEntry, status: DrvStatus): void {
    const previous = e.status;
    if (previous === status) return;
    if (previous === "ready") leaveReady(e);
    mutable(e).status = status;
    if (status === "ready") enterReady(e);
    hooks.onStatusChange(e, previous);
  }

  return {
    get: (p) => entries.get(p),
    values: () => entries.values(),
    get size() {
      return entries.size;
    },
    add(n) {
      const e: MutableEntry = {
        drvPath: n.drvPath, drvHash: n.drvHash, pname: n.pname, system: n.system, outputNames: n.outputNames, outputPaths: n.outputPaths,
        children: new Set(), parents: new Set(), interest: new Map(), status: "queued", lastExecutor: "", timeoutRetries: 0,
      };
      entries.set(n.drvPath, e);
      return e;
    },
    link(parent, child) {
      mutable(parent).children.add(child.drvPath);
      mutable(child).parents.add(parent.drvPath);
    },
    setStatus,
    promote(e) {
      if (e.status !== "queued") return false;
      for (const c of e.children) {
        if (entries.get(c)?.status !== "completed") return false;
      }
      setStatus(e, "ready");
      return true;
    },
    get readyCount() {
      return ready.size;
    },
    takeNext: () => ready.pop(),
    invalidateCriticalPaths() {
      critical = new Map();
      ready.rescore();
    },
    estimate,
    recordDuration(e, secs) {
      durations.set(e.pname, Math.max(0.1, secs));
    },
    prune(paths) {
      let removed = 0;
      const stack = [...paths];
      while (stack.length > 0) {
        const p = stack.pop()!;
        const e = entries.get(p);
        if (!e || e.interest.size > 0 || !isDone(e.status)) continue;
        if ([...e.parents].some((q) => entries.has(q))) continue;
        entries.delete(p);
        leaveReady(e);
        removed++;
        for (const c of e.children) {
          entries.get(c)?.parents.delete(p);
          stack.push(c);
        }
      }
      return removed;
    },
    pendingAncestors(e) {
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
