/**
 * The scheduler's core (rio's actor): wires the derivation table, the builds and their event
 * streams, the build lifecycle, the dispatcher and the log batcher, and offers the gRPC services
 * an interface of plain views. Everything mutating runs synchronously between awaits, which keeps
 * it consistent without locks (rio runs a single actor task for the same reason).
 */
import type { Logger } from "pino";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { AppError } from "../errors.js";
import { buildCounts, criticalPathRemaining, progressBody, type BuildCounts } from "./build-progress.js";
import { createBuildLifecycle } from "./build-lifecycle.js";
import { recoverBuilds } from "./build-recovery.js";
import { createBuildRegistry } from "./build-registry.js";
import { errorSummaryOf } from "./build-state.js";
import { submitBuild, type SubmitParams } from "./build-submission.js";
import { createDerivationTable } from "./derivation-table.js";
import { createDispatcher, type Dispatcher } from "./dispatcher.js";
import type { EventChannel } from "./event-channel.js";
import { createLogBatcher } from "./log-batcher.js";
import { createProgressReporter } from "./progress-reporter.js";
import type { BuildStateName, StateDb } from "./state-db.js";

export type { SubmitParams } from "./build-submission.js";

export interface CoordinatorOptions {
  readonly maxJobs: number;
  /** Systems the local executors build for (see local-systems.ts). */
  readonly systems: readonly string[];
  readonly maxTimeoutRetries: number;
  readonly killGraceMs: number;
  readonly progressDebounceMs: number;
  readonly logBatchMs: number;
  readonly logBatchLines: number;
  readonly cleanupDelayMs: number;
  readonly log: Logger;
}

/** A build held in memory, as QueryBuildStatus and ListBuilds show it. */
export interface LiveBuildView {
  readonly buildId: string;
  readonly state: BuildStateName;
  /** The failure summary, or the cancellation reason; "" otherwise. */
  readonly errorSummary: string;
  readonly counts: BuildCounts;
  readonly criticalPathRemainingSecs: number;
}

export interface ClusterCounts {
  readonly pendingBuilds: number;
  readonly activeBuilds: number;
  /** Ready derivations, including those of systems no executor builds (rio's queued_derivations). */
  readonly readyDerivations: number;
  readonly runningDerivations: number;
  readonly readyBySystem: Readonly<Record<string, number>>;
}

export type InjectedEventKind = "log" | "progress";

export interface BuildCoordinator {
  /** Merges a validated submission; resolves once it is durable, with the build's live stream. */
  submit(params: SubmitParams): Promise<{ buildId: string; events: EventChannel<BuildEvent> }>;
  /** A stream of the build from `since` (replay, then live); undefined when not in memory. */
  watch(buildId: string, since: number): EventChannel<BuildEvent> | undefined;
  status(buildId: string): LiveBuildView | undefined;
  /** True iff this call cancelled the build; undefined when not in memory. */
  cancel(buildId: string, reason: string): boolean | undefined;
  /** Live log lines of a running derivation numbered >= since; undefined when it is not running. */
  liveLog(drvPath: string, since: number): { first: number; lines: Buffer[] } | undefined;
  clusterCounts(): ClusterCounts;
  /** Cancels active builds nobody watched for `graceMs` (rio's orphan watcher); returns how many. */
  cancelOrphans(graceMs: number): number;
  readonly liveBuildCount: number;
  readonly derivationCount: number;
  /** Fault knob: ends every open stream with a clean EOF. */
  endAllStreams(): void;
  /** Fault knob / cleanup: drops a build from memory now. */
  forget(buildId: string): boolean;
  /** Benchmark hook: `count` synthetic events into a live build as fast as possible. */
  injectEvents(buildId: string, count: number, kind: InjectedEventKind, linesPerEvent: number): Promise<void>;
  /** Reloads non-terminal builds from the durable state; returns how many. */
  recover(): Promise<number>;
  /** Stops everything without touching durable state (process exit, failover). */
  dispose(): Promise<void>;
}

export function createBuildCoordinator(db: StateDb, opts: CoordinatorOptions): BuildCoordinator {
  const systems = new Set(opts.systems);
  const registry = createBuildRegistry(db);
  const table = createDerivationTable({
    isRoutable: (system) => systems.has(system),
    onStatusChange: (e) => {
      for (const id of e.interest.keys()) {
        db.updateNodeStatus(id, e.drvPath, e.status, e.lastExecutor);
        const b = registry.get(id);
        if (b) progress.touch(b);
      }
    },
    onUnroutable: (system, e) =>
      opts.log.warn({ system, drvPath: e.drvPath, executorSystems: [...systems] }, "no executor builds this system; its ready derivations wait until one does"),
  });
  const progress = createProgressReporter(registry, table, opts.progressDebounceMs);
  const logs = createLogBatcher(registry, { batchMs: opts.logBatchMs, batchLines: opts.logBatchLines });
  // The lifecycle and the dispatcher call each other; the lifecycle reaches it through closures.
  const lifecycle = createBuildLifecycle({
    registry,
    table,
    db,
    progress,
    runs: { pump: () => dispatcher.pump(), stop: (e) => dispatcher.stop(e) },
    cleanupDelayMs: opts.cleanupDelayMs,
    log: opts.log,
  });
  const dispatcher: Dispatcher = createDispatcher(table, registry, logs, lifecycle, {
    maxJobs: opts.maxJobs,
    killGraceMs: opts.killGraceMs,
    maxTimeoutRetries: opts.maxTimeoutRetries,
    log: opts.log,
  });
  let disposed = false;

  function view(id: string): LiveBuildView | undefined {
    const b = registry.get(id);
    if (!b) return undefined;
    return {
      buildId: b.id,
      state: b.state.name,
      errorSummary: errorSummaryOf(b.state),
      counts: buildCounts(table, b),
      criticalPathRemainingSecs: criticalPathRemaining(table, b),
    };
  }

  return {
    async submit(params) {
      const { build, events } = await submitBuild({ db, table, registry, lifecycle, log: opts.log, stopping: () => disposed }, params);
      return { buildId: build.id, events };
    },
    watch(id, since) {
      const b = registry.get(id);
      return b ? registry.attach(b, since) : undefined;
    },
    status: view,
    cancel: (id, reason) => lifecycle.cancel(id, reason),
    liveLog: (drvPath, since) => logs.snapshot(drvPath, since),
    clusterCounts() {
      // Builds go active within the merge here, so nothing is ever seen pending.
      const pendingBuilds = 0;
      let activeBuilds = 0, readyDerivations = 0, runningDerivations = 0;
      const readyBySystem: Record<string, number> = {};
      for (const b of registry.values()) if (b.state.name === "active") activeBuilds++;
      for (const e of table.values()) {
        if (e.status === "ready") {
          readyDerivations++;
          readyBySystem[e.system] = (readyBySystem[e.system] ?? 0) + 1;
        }
        if (e.status === "running") runningDerivations++;
      }
      return { pendingBuilds, activeBuilds, readyDerivations, runningDerivations, readyBySystem };
    },
    cancelOrphans(graceMs) {
      const now = Date.now();
      let n = 0;
      for (const b of [...registry.values()]) {
        if (b.state.name !== "active" || b.watchers.size > 0 || b.zeroWatchersSince === undefined) continue;
        if (now - b.zeroWatchersSince < graceMs) continue;
        opts.log.info({ buildId: b.id }, "cancelling orphaned build");
        if (lifecycle.cancel(b.id, "orphan_watcher_no_client")) n++;
      }
      return n;
    },
    get liveBuildCount() {
      return registry.size;
    },
    get derivationCount() {
      return table.size;
    },
    endAllStreams() {
      for (const b of registry.values()) registry.detachAll(b);
    },
    forget: (id) => lifecycle.forget(id),
    async injectEvents(id, count, kind, linesPerEvent) {
      const b = registry.get(id);
      if (!b) throw new AppError("not_found", `build not in memory: ${id}`);
      const drv = b.nodes[0] ?? "";
      for (let i = 0; i < count; i++) {
        if (kind === "log") {
          // rio's executors send up to 64 lines per batch; the benchmark chooses how many.
          const first = 1_000_000 + i * linesPerEvent;
          const lines = Array.from({ length: linesPerEvent }, (_, j) => Buffer.from(`synthetic line ${first + j}`));
          registry.emit(b, { case: "log", value: { derivationPath: drv, lines, firstLineNumber: BigInt(first), executorId: "bench" } });
        } else {
          registry.emit(b, progressBody(table, b));
        }
        // Yield now and then so the streams drain instead of buffering everything.
        if (i % 512 === 511) await new Promise((r) => setImmediate(r));
      }
    },
    recover: () => recoverBuilds({ db, table, registry, lifecycle, log: opts.log }),
    async dispose() {
      disposed = true;
      lifecycle.dispose();
      progress.dispose();
      logs.dispose();
      for (const b of registry.values()) registry.detachAll(b);
      await dispatcher.dispose();
    },
  };
}
