/**
 * The sync view's build counters from rio's events. The contract's counters partition the build:
 * completed + cached + running + failed + queued = total, where `completed` counts derivations
 * built for this build and `cached` those already satisfied when it was merged. rio-build counts
 * differently: BuildProgress.completed includes the cached derivations, and failed ones (also
 * dependency-failed and cancelled) are only what is left of its total. After a rio leader failover
 * its totals may even be relative to the recovered graph. So each step here translates rio's numbers
 * and keeps total, completed, cached and failed from ever going down.
 */
import type { BuildCounters } from "../core/index.js";

export const noCounters: BuildCounters = Object.freeze({
  total: 0,
  completed: 0,
  cached: 0,
  running: 0,
  failed: 0,
  queued: 0,
  critical_path_remaining_secs: null,
});

/**
 * `next` made consistent with `prev`: total, completed, cached and failed never below their previous
 * values, total at least what is accounted for, running and queued sharing the rest (running first).
 */
export function settleCounters(prev: BuildCounters, next: BuildCounters): BuildCounters {
  const completed = Math.max(prev.completed, next.completed, 0);
  const cached = Math.max(prev.cached, next.cached, 0);
  const failed = Math.max(prev.failed, next.failed, 0);
  const total = Math.max(prev.total, next.total, completed + cached + failed);
  const rest = total - completed - cached - failed;
  const running = Math.min(Math.max(next.running, 0), rest);
  return { total, completed, cached, failed, running, queued: rest - running, critical_path_remaining_secs: next.critical_path_remaining_secs };
}

/** BuildStarted: the build's size and what the merge found already built. */
export function countersAtStart(prev: BuildCounters, totalDerivations: number, cachedDerivations: number): BuildCounters {
  return settleCounters(prev, { ...prev, total: totalDerivations, cached: cachedDerivations, running: 0 });
}

/** BuildProgress, in rio's terms (its `completed` includes cached derivations). */
export function countersFromProgress(
  prev: BuildCounters,
  rio: { readonly total: number; readonly completed: number; readonly running: number; readonly queued: number; readonly criticalPathRemainingSecs: number | null },
): BuildCounters {
  return settleCounters(prev, {
    total: rio.total,
    completed: rio.completed - prev.cached,
    cached: prev.cached,
    failed: rio.total - rio.completed - rio.running - rio.queued,
    running: rio.running,
    queued: rio.queued,
    critical_path_remaining_secs: rio.criticalPathRemainingSecs,
  });
}

/**
 * `failedSoFar` derivations reported FAILED: a lower bound of the failures, like rio's remainder (which
 * also counts dependency-failed ones), so the larger of the two counts. The next BuildProgress
 * brings running and queued up to date.
 */
export function countersAfterFailure(prev: BuildCounters, failedSoFar: number): BuildCounters {
  return settleCounters(prev, { ...prev, failed: failedSoFar });
}

/**
 * The build ended (rio's last BuildProgress may predate the end): on success everything not cached
 * or failed was built; otherwise what was still running was stopped, and what was queued never ran.
 */
export function countersAtEnd(prev: BuildCounters, succeeded: boolean): BuildCounters {
  if (succeeded) {
    return settleCounters(prev, { ...prev, completed: prev.total - prev.cached - prev.failed, running: 0, critical_path_remaining_secs: 0 });
  }
  return settleCounters(prev, { ...prev, failed: prev.failed + prev.running, running: 0, critical_path_remaining_secs: null });
}
