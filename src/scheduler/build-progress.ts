/**
 * Per-build counters and the critical-path-remaining estimate, read from the global derivation
 * table (BuildProgress, QueryBuildStatus, ListBuilds).
 */
import type { Build, EventBody } from "./build-registry.js";
import { isDone, type DerivationTable } from "./derivation-table.js";

export interface BuildCounts {
  readonly total: number;
  readonly completed: number;
  readonly running: number;
  readonly failed: number;
  readonly queued: number;
  readonly cached: number;
  /** Sorted slots running this build's derivations (rio's assigned_executors). */
  readonly executors: string[];
}

/** Counters as rio's build_summary makes them: cancelled work counts as failed, ready as queued. */
export function buildCounts(table: DerivationTable, b: Build): BuildCounts {
  let completed = 0, running = 0, failed = 0, queued = 0;
  const executors = new Set<string>();
  for (const p of b.nodes) {
    const e = table.get(p);
    if (!e) continue;
    switch (e.status) {
      case "completed":
        completed++;
        break;
      case "running":
        running++;
        executors.add(e.lastExecutor);
        break;
      case "poisoned":
      case "dependency_failed":
      case "cancelled":
        failed++;
        break;
      case "queued":
      case "ready":
        queued++;
        break;
      default: {
        const never: never = e.status;
        return never;
      }
    }
  }
  return { total: b.nodes.length, completed, running, failed, queued, cached: b.cached, executors: [...executors].sort() };
}

/** Estimated seconds on the longest chain of this build's unfinished derivations. */
export function criticalPathRemaining(table: DerivationTable, b: Build): number {
  const memo = new Map<string, number>();
  const inBuild = new Set(b.nodes);
  const visit = (start: string): number => {
    const stack: [string, boolean][] = [[start, false]];
    while (stack.length > 0) {
      const [p, expanded] = stack.pop()!;
      if (memo.has(p)) continue;
      const e = table.get(p);
      if (!e || isDone(e.status)) {
        memo.set(p, 0);
        continue;
      }
      if (!expanded) {
        stack.push([p, true]);
        for (const c of e.children) if (inBuild.has(c) && !memo.has(c)) stack.push([c, false]);
        continue;
      }
      let best = 0;
      for (const c of e.children) best = Math.max(best, memo.get(c) ?? 0);
      memo.set(p, best + table.estimate(e));
    }
    return memo.get(start) ?? 0;
  };
  let best = 0;
  for (const r of b.nodes) best = Math.max(best, visit(r));
  return Math.ceil(best);
}

export function progressBody(table: DerivationTable, b: Build): EventBody {
  const c = buildCounts(table, b);
  return {
    case: "progress",
    value: {
      completed: c.completed,
      running: c.running,
      queued: c.queued,
      total: c.total,
      criticalPathRemainingSecs: BigInt(criticalPathRemaining(table, b)),
      assignedExecutors: c.executors,
    },
  };
}

