/**
 * A build's life from merge to forgetting: start (ready derivations, build_timeout deadline,
 * progress), completion checks after each derivation outcome, failure without keep_going,
 * cancellation, and the cleanup that drops a finished build from memory after rio's
 * TERMINAL_CLEANUP_DELAY. Every state change goes through `setState`, which does what each end
 * state needs: the terminal event, released interest, the durable row and the cleanup timer.
 */
import type { Logger } from "pino";
import type { Build, BuildRegistry } from "./build-registry.js";
import { buildCounts } from "./build-progress.js";
import { errorSummaryOf, terminalEvent, type TerminalState, type BuildState } from "./build-state.js";
import { isDone, type DerivationTable, type DrvEntry, type DrvStatus } from "./derivation-table.js";
import type { DispatchOutcomes } from "./dispatcher.js";
import type { ProgressReporter } from "./progress-reporter.js";
import type { StateDb } from "./state-db.js";

export interface BuildLifecycle extends DispatchOutcomes {
  /** A newly merged or recovered build: ready derivations queued, deadline armed, maybe already done. */
  start(build: Build): void;
  /** Moves an active build to cancelled; undefined for an unknown build, false if it had ended. */
  cancel(buildId: string, reason: string): boolean | undefined;
  /** Drops a build from memory (rio's cleanup); streams end, Watch says NOT_FOUND. */
  forget(buildId: string): boolean;
  dispose(): void;
}

export interface LifecycleDeps {
  readonly registry: BuildRegistry;
  readonly table: DerivationTable;
  readonly db: StateDb;
  readonly progress: ProgressReporter;
  /** The dispatcher's pump and stop (late-bound: the dispatcher reports outcomes to us). */
  readonly runs: { pump(): void; stop(e: DrvEntry): void };
  readonly cleanupDelayMs: number;
  readonly log: Logger;
}

export function createBuildLifecycle(deps: LifecycleDeps): BuildLifecycle {
  const { registry, table, db, progress, runs, log } = deps;
  /** One timer per build: the build_timeout deadline while active, the cleanup once ended. */
  const timers = new Map<string, NodeJS.Timeout>();

  function setTimer(id: string, timer: NodeJS.Timeout | undefined): void {
    clearTimeout(timers.get(id));
    if (timer) timers.set(id, timer);
    else timers.delete(id);
  }

  /** The one place a build's state changes; terminal states are final (returns false then). */
  function setState(b: Build, next: TerminalState): boolean {
    if (b.state.name !== "active") return false;
    progress.stop(b);
    if (next.name === "succeeded") {
      // Finished builds drop their interest: later status changes must not rewrite their rows.
      for (const p of b.nodes) table.get(p)?.interest.delete(b.id);
    } else {
      releaseInterest(b);
    }
    (b as { state: BuildState }).state = next;
    setTimer(b.id, setTimeout(() => forget(b.id), deps.cleanupDelayMs));
    registry.emit(b, terminalEvent(next));
    persist(b);
    log.info({ buildId: b.id, state: next.name, error: errorSummaryOf(next) || undefined }, "build finished");
    return true;
  }

  function persist(b: Build): void {
    const c = buildCounts(table, b);
    db.updateBuild({ build_id: b.id, state: b.state.name, total: c.total, completed: c.completed, cached: b.cached, error_summary: errorSummaryOf(b.state) });
  }

  /**
   * Removes this build's interest. Work nobody else wants stops as in rio: a running derivation is
   * killed and becomes `cancelled`, a waiting one becomes `dependency_failed`; shared work goes on.
   * This build's own rows show what it gave up even where the shared derivation goes on.
   */
  function releaseInterest(b: Build): void {
    db.batch(() => {
      for (const p of b.nodes) {
        const e = table.get(p);
        if (!e || !e.interest.has(b.id)) continue;
        const leftover: DrvStatus = e.status === "running" ? "cancelled" : "dependency_failed";
        if (!isDone(e.status)) db.updateNodeStatus(b.id, p, leftover, e.lastExecutor);
        e.interest.delete(b.id);
        if (e.interest.size > 0 || isDone(e.status)) continue;
        if (e.status === "running") runs.stop(e);
        table.setStatus(e, leftover);
      }
    });
  }

  function fail(b: Build, errorSummary: string, failedDerivation: string): void {
    setState(b, { name: "failed", errorSummary, failedDerivation });
  }

  function checkCompletion(b: Build): void {
    if (b.state.name !== "active") return;
    // Cheap forward scan first; the full pass below runs once the cursor reaches the end, and
    // rewinds it if a node was re-armed by another submission in the meantime.
    while (b.doneCursor < b.nodes.length) {
      const e = table.get(b.nodes[b.doneCursor]!);
      if (!e || !isDone(e.status)) return;
      b.doneCursor++;
    }
    let firstFailure: DrvEntry | undefined;
    const failedItself = (e: DrvEntry): boolean => e.status === "poisoned" || e.status === "cancelled";
    for (const [i, p] of b.nodes.entries()) {
      const e = table.get(p);
      if (!e || !isDone(e.status)) {
        b.doneCursor = i;
        return;
      }
      // Name a node that really failed rather than one that only had a failed dependency.
      if (e.status !== "completed" && (!firstFailure || (!failedItself(firstFailure) && failedItself(e)))) firstFailure = e;
    }
    if (firstFailure) {
      fail(b, `derivation ${firstFailure.drvPath} failed`, firstFailure.drvHash);
    } else {
      const outputPaths = b.roots.flatMap((r) => table.get(r)?.outputPaths.filter((o) => o !== "") ?? []);
      setState(b, { name: "succeeded", outputPaths });
    }
  }

  function forget(id: string): boolean {
    const b = registry.get(id);
    if (!b) return false;
    // Streams end first: forgetting is silent (EOF), even for the live build the fault knob drops.
    registry.detachAll(b);
    if (b.state.name === "active") {
      // Recorded as cancelled so no restart revives it.
      setState(b, { name: "cancelled", reason: "forgotten" });
      runs.pump();
    }
    setTimer(id, undefined);
    progress.stop(b);
    registry.delete(id);
    table.prune(b.roots.length > 0 ? b.roots : b.nodes);
    db.deleteEvents(id);
    return true;
  }

  return {
    start(b) {
      for (const p of b.nodes) {
        const e = table.get(p);
        if (e) table.promote(e);
      }
      checkCompletion(b);
      if (b.state.name === "active") {
        if (b.buildTimeout > 0) {
          const left = b.submittedAt + b.buildTimeout * 1000 - Date.now();
          const deadline = setTimeout(() => {
            fail(b, `build_timeout ${b.buildTimeout}s exceeded (wall-clock since submission)`, "");
            runs.pump();
          }, Math.max(0, left));
          setTimer(b.id, deadline);
        }
        progress.touch(b);
      }
      runs.pump();
    },
    cancel(id, reason) {
      const b = registry.get(id);
      if (!b) return undefined;
      const moved = setState(b, { name: "cancelled", reason });
      if (moved) runs.pump();
      return moved;
    },
    forget,
    completed(_e, builds) {
      for (const b of builds) checkCompletion(b);
    },
    failed(e, builds) {
      for (const b of builds) if (!b.keepGoing) fail(b, `derivation ${e.drvPath} failed`, e.drvHash);
      for (const b of builds) checkCompletion(b);
    },
    dispose() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
