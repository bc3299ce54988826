/**
 * Runs ready derivations: a fixed set of local slots (rio's executors), one `nix-store --realise`
 * per dispatched derivation, and the outcome of each run. A run that timed out (max_silent_time or
 * the per-derivation timeout) goes back to ready up to `maxTimeoutRetries` times, as rio's
 * handle_timeout_failure does; any other failure poisons the derivation. What an outcome means for
 * the builds that want it is the build lifecycle's business (`outcomes`).
 */
import type { Logger } from "pino";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { BuildResultStatus } from "../../generated/types_pb.js";
import { findInvalidPaths } from "../eval/validity.js";
import type { Build, BuildRegistry, EventBody } from "./build-registry.js";
import type { DerivationTable, DrvEntry } from "./derivation-table.js";
import type { LogBatcher } from "./log-batcher.js";
import { startRealise, type RealiseResult, type RunningRealise } from "./nix-realise.js";
import { isStorePath } from "./validate-submit.js";

export interface DispatcherOptions {
  readonly maxJobs: number;
  readonly killGraceMs: number;
  /** rio's RetryPolicy.max_timeout_retries (default 4): re-dispatches after a timeout. */
  readonly maxTimeoutRetries: number;
  readonly log: Logger;
}

/** What the build lifecycle does once a derivation's outcome is recorded in the table. */
export interface DispatchOutcomes {
  completed(e: DrvEntry, builds: readonly Build[]): void;
  failed(e: DrvEntry, builds: readonly Build[]): void;
}

export interface Dispatcher {
  /** Starts ready derivations while slots are free. */
  pump(): void;
  /** Kills the run of a derivation nobody wants any more; its outcome is then ignored. */
  stop(e: DrvEntry): void;
  readonly freeSlots: number;
  /** Stops every run without recording outcomes (process exit, failover). */
  dispose(): Promise<void>;
}

interface DrvRun {
  readonly proc: RunningRealise;
  readonly slot: string;
  readonly startedAt: number;
  cancelled: boolean;
}

/** Builds interested in a derivation, as event targets. */
export function interestedBuilds(registry: BuildRegistry, e: DrvEntry): Build[] {
  const out: Build[] = [];
  for (const id of e.interest.keys()) {
    const b = registry.get(id);
    if (b) out.push(b);
  }
  return out;
}

export function derivationEvent(
  e: DrvEntry,
  kind: DerivationEventKind,
  extra: Partial<{ executorId: string; outputPaths: string[]; errorMessage: string; failureStatus: BuildResultStatus }> = {},
): EventBody {
  return { case: "derivation", value: { derivationPath: e.drvPath, kind, ...extra } };
}

function smallestNonZero(values: number[]): number | undefined {
  const v = values.filter((x) => x > 0);
  return v.length > 0 ? Math.min(...v) : undefined;
}

/** nix-store's exit status → rio's BuildResultStatus (docs/nix.md, "Log format": 100 failed, 101 timed out, 102 hash mismatch). */
export function failureStatus(res: RealiseResult): BuildResultStatus {
  switch (res.exitCode) {
    case 101:
      return BuildResultStatus.TIMED_OUT;
    case 102:
      return BuildResultStatus.OUTPUT_REJECTED;
    case 100:
      return BuildResultStatus.PERMANENT_FAILURE;
    default:
      // 1 = unsupported system/feature or an unexpected error; a signal = infrastructure.
      return res.signal ? BuildResultStatus.INFRASTRUCTURE_FAILURE : BuildResultStatus.PERMANENT_FAILURE;
  }
}

export function createDispatcher(
  table: DerivationTable,
  registry: BuildRegistry,
  logs: LogBatcher,
  outcomes: DispatchOutcomes,
  opts: DispatcherOptions,
): Dispatcher {
  const freeSlots = Array.from({ length: opts.maxJobs }, (_, i) => `local-${i}`);
  /** The current run of each derivation (a cancelled one may still be dying in `running`). */
  const current = new Map<string, DrvRun>();
  const running = new Set<DrvRun>();
  let disposed = false;

  function emitAll(builds: readonly Build[], body: EventBody): void {
    for (const b of builds) registry.emit(b, body);
  }

  function pump(): void {
    if (disposed) return;
    while (freeSlots.length > 0 && table.readyCount > 0) {
      const e = table.takeNext();
      if (!e) break;
      start(e, freeSlots.shift()!);
    }
  }

  function start(e: DrvEntry, slot: string): void {
    const builds = interestedBuilds(registry, e);
    logs.begin(e);
    const proc = startRealise({
      drvPath: e.drvPath,
      maxSilentTime: smallestNonZero(builds.map((b) => b.maxSilentTime)),
      timeout: smallestNonZero(builds.map((b) => b.buildTimeout)),
      cores: Math.max(0, ...builds.map((b) => b.buildCores)),
      killGraceMs: opts.killGraceMs,
      onLogLine: (drv, line) => logs.line(table.get(drv) ?? e, line),
      onPhase: (drv, phase) => {
        const target = table.get(drv) ?? e;
        emitAll(interestedBuilds(registry, target), { case: "phase", value: { derivationPath: target.drvPath, phase } });
      },
    });
    const run: DrvRun = { proc, slot, startedAt: Date.now(), cancelled: false };
    running.add(run);
    current.set(e.drvPath, run);
    e.lastExecutor = slot;
    table.setStatus(e, "running");
    emitAll(builds, derivationEvent(e, DerivationEventKind.STARTED, { executorId: slot }));
    void proc.done.then(
      (res) => finished(e, run, res),
      (err: unknown) => finished(e, run, { exitCode: undefined, signal: undefined, errors: [String(err)] }),
    );
  }

  /** Whether the expected outputs are valid now; undefined when none are known (floating CA). */
  async function outputsPresent(e: DrvEntry): Promise<boolean | undefined> {
    const wanted = e.outputPaths.filter((p) => p !== "");
    if (wanted.length === 0) return undefined;
    if (!wanted.every(isStorePath)) return false;
    try {
      return (await findInvalidPaths(wanted)).size === 0;
    } catch {
      return false;
    }
  }

  async function finished(e: DrvEntry, run: DrvRun, res: RealiseResult): Promise<void> {
    running.delete(run);
    if (disposed) return;
    logs.flush(e);
    // nix-store's `stop` carries no success flag: success is the expected outputs being valid.
    const ok = (run.cancelled ? undefined : await outputsPresent(e)) ?? res.exitCode === 0;
    freeSlots.push(run.slot);
    if (current.get(e.drvPath) === run) {
      current.delete(e.drvPath);
      logs.end(e);
    }
    if (disposed) return;
    // A cancelled run, or one whose entry was re-armed or dropped meanwhile, decides nothing.
    if (run.cancelled || current.has(e.drvPath) || table.get(e.drvPath) !== e || e.status !== "running") {
      pump();
      return;
    }
    table.recordDuration(e, (Date.now() - run.startedAt) / 1000);
    if (ok) succeed(e);
    else fail(e, res);
    pump();
  }

  function succeed(e: DrvEntry): void {
    const builds = interestedBuilds(registry, e);
    table.setStatus(e, "completed");
    emitAll(builds, derivationEvent(e, DerivationEventKind.COMPLETED, { outputPaths: [...e.outputPaths] }));
    for (const p of e.parents) {
      const pe = table.get(p);
      if (pe) table.promote(pe);
    }
    outcomes.completed(e, builds);
  }

  function fail(e: DrvEntry, res: RealiseResult): void {
    const status = failureStatus(res);
    const message = res.errors.filter((m) => m.includes(e.drvPath)).join("\n") || res.errors.join("\n") || `derivation ${e.drvPath} failed`;
    if (status === BuildResultStatus.TIMED_OUT && e.timeoutRetries < opts.maxTimeoutRetries) {
      // rio re-dispatches a timed-out derivation (no backoff, no failure event); STARTED follows again.
      e.timeoutRetries += 1;
      opts.log.info({ drvPath: e.drvPath, retry: e.timeoutRetries, max: opts.maxTimeoutRetries }, "derivation timed out; retrying");
      table.setStatus(e, "ready");
      return;
    }
    const builds = interestedBuilds(registry, e);
    // Past the retry cap a timeout ends `cancelled` (retriable on resubmit); any other failure
    // poisons the derivation (rio's handle_permanent_failure).
    table.setStatus(e, status === BuildResultStatus.TIMED_OUT ? "cancelled" : "poisoned");
    opts.log.warn({ drvPath: e.drvPath, exitCode: res.exitCode, status: BuildResultStatus[status], builds: builds.map((b) => b.id) }, "derivation failed");
    emitAll(builds, derivationEvent(e, DerivationEventKind.FAILED, { errorMessage: message, failureStatus: status }));
    for (const a of table.pendingAncestors(e)) table.setStatus(a, "dependency_failed");
    outcomes.failed(e, builds);
  }

  return {
    pump,
    stop(e) {
      const run = current.get(e.drvPath);
      if (!run) return;
      run.cancelled = true;
      run.proc.kill();
    },
    get freeSlots() {
      return freeSlots.length;
    },
    async dispose() {
      disposed = true;
      const runs = [...running];
      for (const r of runs) r.proc.kill();
      await Promise.allSettled(runs.map((r) => r.proc.done));
    },
  };
}
