/**
 * Submits that arrive in the same event-loop turn share one transaction (store.submitSyncs: one
 * commit, each item in its own savepoint, so one item's error touches no other). Order is kept.
 * Afterwards the runner stops the in-flight syncs a submit superseded and claims the new ones.
 */
import type { SubmitResult } from "../core/index.js";
import type { Runner } from "../runner/runner.js";
import type { Store, SubmitSyncInput } from "../store/index.js";

export type SubmitBatch = (input: SubmitSyncInput) => Promise<SubmitResult>;

export function createSubmitBatch(store: Store, runner: Pick<Runner, "interrupt" | "kick">): SubmitBatch {
  let pending: { input: SubmitSyncInput; resolve: (r: SubmitResult) => void; reject: (e: unknown) => void }[] = [];

  function flush(): void {
    const batch = pending;
    pending = [];
    let outcomes;
    try {
      outcomes = store.submitSyncs(batch.map((p) => p.input));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const p = batch[i];
      if (!p) return;
      if (!outcome.ok) {
        p.reject(outcome.error);
        return;
      }
      const result = outcome.result;
      if (result.interrupted.length > 0) runner.interrupt(result.interrupted, "superseded");
      p.resolve({ sync: result.sync, superseded: result.superseded });
    });
    runner.kick();
  }

  return (input) =>
    new Promise((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (pending.length === 1) setImmediate(flush);
    });
}
