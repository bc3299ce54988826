/**
 * The loop: claims runnable syncs (one per deployment, up to a global concurrency) and runs each
 * through its phases; stops the ones that get cancelled or superseded; on start, resumes every
 * sync that was in flight when the service last stopped.
 */
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import { AppError } from "../errors.js";
import type { InterruptedSync, Store, SyncRecord } from "../store/index.js";
import { runSync, type SyncRunDeps } from "./run-sync.js";
import { createSlots } from "./slots.js";

export interface RunnerOptions extends SyncRunDeps {
  /** Syncs in flight at once (a sync following its build costs a stream, not a process). */
  readonly concurrency: number;
  /** Nix evaluations at once; default: the number of CPUs. */
  readonly evaluationConcurrency?: number;
  /** How often the store is polled for runnable syncs besides explicit kicks. */
  readonly pollIntervalMs?: number;
}

export interface Runner {
  /** Resumes in-flight syncs, then starts claiming. */
  start(): Promise<void>;
  /** Stops claiming and waits for running syncs to reach a safe point (they resume on next start). */
  stop(): Promise<void>;
  /** Something became runnable: claim now rather than at the next poll. */
  kick(): void;
  /** These syncs were cancelled or superseded while in flight: stop them and cancel their rio builds. */
  interrupt(syncs: readonly InterruptedSync[], reason: "superseded" | "cancelled"): void;
  /** Ids of the syncs running in this process. */
  running(): readonly string[];
}

export function createRunner(options: RunnerOptions): Runner {
  const store: Store = options.store;
  const deps: SyncRunDeps = { ...options, evaluationSlots: options.evaluationSlots ?? createSlots(options.evaluationConcurrency ?? availableParallelism()) };
  const log: Logger = options.logger.child({ component: "runner" });
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped = true;
  let poll: NodeJS.Timeout | undefined;
  let claiming = false;
  let again = false;

  function launch(record: SyncRecord): void {
    if (active.has(record.id)) return;
    const controller = new AbortController();
    const done = runSync(deps, record, controller.signal)
      .catch((err: unknown) => log.error({ sync: record.id, err: AppError.from(err).message }, "sync runner crashed"))
      .finally(() => {
        active.delete(record.id);
        kick();
      });
    active.set(record.id, { controller, done });
  }

  function claim(): void {
    if (stopped) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = true;
    try {
      do {
        again = false;
        const room = options.concurrency - active.size;
        if (room <= 0) break;
        const { claimed } = store.claimRunnable(room);
        for (const record of claimed) launch(record);
      } while (again);
    } catch (err) {
      log.error({ err: AppError.from(err).message }, "claiming syncs failed; retrying at the next poll");
    } finally {
      claiming = false;
    }
  }

  // Many kicks in one turn (a burst of submits) make one claim.
  let kickScheduled = false;
  function kick(): void {
    if (stopped || kickScheduled) return;
    kickScheduled = true;
    setImmediate(() => {
      kickScheduled = false;
      claim();
    });
  }

  return {
    async start() {
      stopped = false;
      const inFlight = store.nonTerminalSyncs({ inFlightOnly: true });
      if (inFlight.length > 0) log.info({ count: inFlight.length }, "resuming syncs that were in flight");
      for (const record of inFlight) launch(record);
      poll = setInterval(claim, options.pollIntervalMs ?? 1_000);
      poll.unref();
      claim();
    },
    async stop() {
      stopped = true;
      if (poll) clearInterval(poll);
      // Aborting the followers leaves the store untouched: these syncs resume on the next start.
      const running = [...active.values()];
      for (const r of running) r.controller.abort();
      await Promise.all(running.map((r) => r.done));
    },
    kick,
    interrupt(syncs, reason) {
      for (const s of syncs) {
        active.get(s.sync)?.controller.abort();
        if (s.buildId) {
          options.rio.cancel(s.buildId, reason).catch((err: unknown) => {
            log.warn({ sync: s.sync, buildId: s.buildId, err: AppError.from(err).message }, "could not cancel the rio build");
          });
        }
      }
      kick();
    },
    running: () => [...active.keys()],
  };
}
