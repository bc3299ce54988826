/**
 * BuildProgress events, debounced per build as in rio (PROGRESS_DEBOUNCE, 250 ms by default): a
 * change marks the build, and at most one progress event per window carries the counters of
 * that moment.
 */
import type { Build, BuildRegistry } from "./build-registry.js";
import { progressBody } from "./build-progress.js";
import type { DerivationTable } from "./derivation-table.js";

export interface ProgressReporter {
  /** Something in this build changed: a progress event follows within the debounce window. */
  touch(build: Build): void;
  /** The build ended (or is being dropped): no further progress events. */
  stop(build: Build): void;
  dispose(): void;
}

export function createProgressReporter(registry: BuildRegistry, table: DerivationTable, debounceMs: number): ProgressReporter {
  const timers = new Map<string, NodeJS.Timeout>();
  const lastAt = new Map<string, number>();
  let disposed = false;

  return {
    touch(b) {
      if (b.state.name !== "active" || timers.has(b.id) || disposed) return;
      const wait = Math.max(0, (lastAt.get(b.id) ?? 0) + debounceMs - Date.now());
      timers.set(
        b.id,
        setTimeout(() => {
          timers.delete(b.id);
          if (b.state.name !== "active" || disposed) return;
          lastAt.set(b.id, Date.now());
          registry.emit(b, progressBody(table, b));
        }, wait),
      );
    },
    stop(b) {
      clearTimeout(timers.get(b.id));
      timers.delete(b.id);
      lastAt.delete(b.id);
    },
    dispose() {
      disposed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
