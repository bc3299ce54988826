/**
 * The scheduler's actor: merges submissions into the global derivation table, dispatches ready
 * derivations to local `nix-store --realise` slots, and turns what happens into each interested
 * build's events. Everything mutating runs synchronously between awaits, which is what keeps it
 * consistent without locks (rio uses a single actor task for the same reason).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { BuildEventSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { BuildResultStatus } from "../../generated/types_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { createBuildRegistry, isTerminal, type Build, type EventBody } from "./build-registry.js";
import { createDerivationTable, isDone, type DrvEntry, type DrvRun, type DrvStatus } from "./derivation-table.js";
import type { EventChannel } from "./event-channel.js";
import { buildCounts, criticalPathRemaining, progressBody } from "./build-progress.js";
import { assertAcyclic, mergeIntoTable, newBuild, readDrvs } from "./merge.js";
import { createLogRing, type LogRing } from "./log-ring.js";
import { findInvalidPaths, startRealise, type RealiseResult } from "./nix-realise.js";
import type { BuildRow, StateDb } from "./state-db.js";
import { uuidv7 } from "./ids.js";
import type { SubmittedNode, ValidSubmission } from "./validate-submit.js";

export interface EngineOptions {
  readonly maxJobs: number;
  readonly killGraceMs: number;
  readonly progressDebounceMs: number;
  readonly logBatchMs: number;
  readonly logBatchLines: number;
  readonly cleanupDelayMs: number;
  readonly log: Logger;
}

export interface SubmitParams {
  readonly submission: ValidSubmission;
  readonly tenantId: string | null;
  readonly keepGoing: boolean;
  readonly buildTimeout: number;
  readonly maxSilentTime: number;
  readonly buildCores: number;
}

interface PendingLog {
  lines: Buffer[];
  first: number;
  timer?: NodeJS.Timeout;
}

export function createEngine(db: StateDb, opts: EngineOptions) {
  const table = createDerivationTable((e) => interestedBuilds(e).some((b) => b.priorityClass === "interactive"));
  const registry = createBuildRegistry(db);
  const { builds } = registry;
  const rings = new Map<string, LogRing>();
  const pendingLogs = new Map<string, PendingLog>();
  const freeSlots = Array.from({ length: opts.maxJobs }, (_, i) => `local-${i}`);
  const running = new Set<DrvRun>();
  let disposed = false;

  const interestedBuilds = (e: DrvEntry): Build[] =>
    [...e.interested].map((id) => builds.get(id)).filter((b): b is Build => b !== undefined);

  function setStatus(e: DrvEntry, status: DrvStatus): void {
    table.setStatus(e, status);
    for (const b of e.interested) db.updateNodeStatus(b, e.drvPath, status, e.lastExecutor);
    for (const b of interestedBuilds(e)) scheduleProgress(b);
  }

  function derivationEvent(e: DrvEntry, kind: DerivationEventKind, extra: Partial<{ executorId: string; outputPaths: string[]; errorMessage: string; failureStatus: BuildResultStatus }> = {}): EventBody {
    return { case: "derivation", value: { derivationPath: e.drvPath, kind, ...extra } };
  }

  function scheduleProgress(b: Build): void {
    if (isTerminal(b.state) || b.progressTimer || disposed) return;
    const wait = Math.max(0, b.lastProgressAt + opts.progressDebounceMs - Date.now());
    b.progressTimer = setTimeout(() => {
      b.progressTimer = undefined;
      if (isTerminal(b.state) || disposed) return;
      b.lastProgressAt = Date.now();
      registry.emit(b, progressBody(table, b));
    }, wait);
  }

  // ---- build lifecycle ----

  function persistBuild(b: Build): void {
    const c = buildCounts(table, b);
    db.updateBuild({ build_id: b.id, state: b.state, total: c.total, completed: c.completed, cached: b.cached, error_summary: b.errorSummary });
  }

  function finish(b: Build): void {
    opts.log.info({ buildId: b.id, state: b.state, error: b.errorSummary || undefined }, "build finished");
    if (b.progressTimer) clearTimeout(b.progressTimer);
    if (b.timeoutTimer) clearTimeout(b.timeoutTimer);
    b.progressTimer = undefined;
    persistBuild(b);
    b.cleanupTimer = setTimeout(() => forget(b.id), opts.cleanupDelayMs);
  }

  /** Drops a terminal build from memory (rio's TERMINAL_CLEANUP_DELAY): streams end, Watch says NOT_FOUND. */
  function forget(id: string): boolean {
    const b = builds.get(id);
    if (!b) return false;
    if (!isTerminal(b.state)) {
      // Only the fault knob forgets a live build; record it as cancelled so no restart revives it.
      releaseInterest(b);
      b.state = "cancelled";
      b.errorSummary = "forgotten";
      persistBuild(b);
      pump();
    }
    if (b.cleanupTimer) clearTimeout(b.cleanupTimer);
    if (b.timeoutTimer) clearTimeout(b.timeoutTimer);
    if (b.progressTimer) clearTimeout(b.progressTimer);
    builds.delete(id);
    table.prune(b.roots.length > 0 ? b.roots : b.nodes);
    registry.detachAll(b);
    db.deleteEvents(id);
    return true;
  }

  /**
   * Removes this build's interest. Work nobody else wants stops as in rio: a running derivation is
   * killed and becomes `cancelled`, a waiting one becomes `dependency_failed`; shared work goes on.
   */
  function releaseInterest(b: Build): void {
    db.batch(() => {
      for (const p of b.nodes) {
        const e = table.get(p);
        if (!e || !e.interested.has(b.id)) continue;
        const leftover: DrvStatus = e.status === "running" ? "cancelled" : "dependency_failed";
        if (!isDone(e.status)) db.updateNodeStatus(b.id, p, leftover, e.lastExecutor);
        e.interested.delete(b.id);
        if (e.interested.size > 0 || isDone(e.status)) continue;
        if (e.status === "running" && e.run) {
          e.run.cancelled = true;
          e.run.proc.kill();
        }
        table.setStatus(e, leftover);
      }
    });
  }

  function failBuild(b: Build, message: string, failedDerivation: string): void {
    if (isTerminal(b.state)) return;
    releaseInterest(b);
    b.state = "failed";
    b.errorSummary = message;
    registry.emit(b, { case: "failed", value: { errorMessage: message, failedDerivation, status: BuildResultStatus.UNSPECIFIED } });
    finish(b);
  }

  function cancelBuild(id: string, reason: string): boolean | undefined {
    const b = builds.get(id);
    if (!b) return undefined;
    if (isTerminal(b.state)) return false;
    releaseInterest(b);
    b.state = "cancelled";
    b.errorSummary = reason;
    registry.emit(b, { case: "cancelled", value: { reason } });
    finish(b);
    pump();
    return true;
  }

  function completeBuild(b: Build): void {
    b.state = "succeeded";
    // Finished builds drop their interest: later status changes must not rewrite their rows.
    for (const p of b.nodes) table.get(p)?.interested.delete(b.id);
    const outputs = b.roots.flatMap((r) => table.get(r)?.outputPaths.filter((o) => o !== "") ?? []);
    registry.emit(b, { case: "completed", value: { outputPaths: outputs } });
    finish(b);
  }

  function checkCompletion(b: Build): void {
    if (isTerminal(b.state)) return;
    // Cheap forward scan first; the full pass below runs once the cursor reaches the end, and
    // rewinds it if a node was re-armed by another submission in the meantime.
    while (b.doneCursor < b.nodes.length) {
      const e = table.get(b.nodes[b.doneCursor]!);
      if (!e || !isDone(e.status)) return;
      b.doneCursor++;
    }
    let firstFailure: DrvEntry | undefined;
    for (const [i, p] of b.nodes.entries()) {
      const e = table.get(p);
      if (!e || !isDone(e.status)) {
        b.doneCursor = i;
        return;
      }
      // Name a node that really failed rather than one that only had a failed dependency.
      if (e.status !== "completed" && (!firstFailure || (firstFailure.status !== "failed" && e.status === "failed"))) firstFailure = e;
    }
    if (firstFailure) failBuild(b, `derivation ${firstFailure.drvPath} failed`, firstFailure.drvHash);
    else completeBuild(b);
  }

  // ---- dispatch ----

  function pump(): void {
    if (disposed) return;
    while (freeSlots.length > 0 && table.readyCount() > 0) {
      const e = table.takeNext();
      if (!e) break;
      dispatch(e, freeSlots.shift()!);
    }
  }

  function smallestNonZero(values: number[]): number | undefined {
    const v = values.filter((x) => x > 0);
    return v.length > 0 ? Math.min(...v) : undefined;
  }

  function dispatch(e: DrvEntry, slot: string): void {
    const bs = interestedBuilds(e);
    const ring = createLogRing();
    rings.set(e.drvPath, ring);
    const proc = startRealise({
      drvPath: e.drvPath,
      maxSilentTime: smallestNonZero(bs.map((b) => b.maxSilentTime)),
      timeout: smallestNonZero(bs.map((b) => b.buildTimeout)),
      cores: Math.max(0, ...bs.map((b) => b.buildCores)),
      killGraceMs: opts.killGraceMs,
      onLogLine: (drv, line) => onLogLine(table.get(drv) ?? e, line),
      onPhase: (drv, phase) => {
        const target = table.get(drv) ?? e;
        for (const b of interestedBuilds(target)) registry.emit(b, { case: "phase", value: { derivationPath: target.drvPath, phase } });
      },
    });
    const run: DrvRun = { proc, slot, startedAt: Date.now(), cancelled: false };
    running.add(run);
    e.run = run;
    e.lastExecutor = slot;
    setStatus(e, "running");
    for (const b of bs) registry.emit(b, derivationEvent(e, DerivationEventKind.STARTED, { executorId: slot }));
    void proc.done.then(
      (res) => onFinished(e, run, res),
      (err: unknown) => onFinished(e, run, { exitCode: undefined, signal: undefined, errors: [String(err)] }),
    );
  }

  function onLogLine(e: DrvEntry, line: Buffer): void {
    const ring = rings.get(e.drvPath) ?? createLogRing();
    rings.set(e.drvPath, ring);
    const n = ring.push(line);
    let pending = pendingLogs.get(e.drvPath);
    if (!pending) {
      pending = { lines: [], first: n };
      pendingLogs.set(e.drvPath, pending);
    }
    pending.lines.push(line);
    if (pending.lines.length >= opts.logBatchLines) flushLog(e);
    else if (!pending.timer) pending.timer = setTimeout(() => flushLog(e), opts.logBatchMs);
  }

  function flushLog(e: DrvEntry): void {
    const pending = pendingLogs.get(e.drvPath);
    if (!pending) return;
    pendingLogs.delete(e.drvPath);
    if (pending.timer) clearTimeout(pending.timer);
    if (pending.lines.length === 0 || disposed) return;
    for (const b of interestedBuilds(e)) {
      registry.emit(b, {
        case: "log",
        value: { derivationPath: e.drvPath, lines: pending.lines, firstLineNumber: BigInt(pending.first), executorId: e.lastExecutor },
      });
    }
  }

  async function onFinished(e: DrvEntry, run: DrvRun, res: RealiseResult): Promise<void> {
    running.delete(run);
    if (disposed) return;
    flushLog(e);
    const wanted = e.outputPaths.filter((p) => p !== "");
    let ok = res.exitCode === 0;
    if (!run.cancelled && wanted.length > 0) {
      try {
        ok = (await findInvalidPaths(wanted)).size === 0;
      } catch {
        ok = false;
      }
    }
    freeSlots.push(run.slot);
    if (e.run === run) {
      e.run = undefined;
      rings.delete(e.drvPath);
    }
    if (disposed) return;
    // A cancelled run, or one replaced by a re-armed dispatch, no longer decides anything.
    if (run.cancelled || e.run !== undefined || e.status !== "running") {
      pump();
      return;
    }
    table.recordDuration(e, (Date.now() - run.startedAt) / 1000);
    if (ok) {
      setStatus(e, "completed");
      for (const b of interestedBuilds(e)) registry.emit(b, derivationEvent(e, DerivationEventKind.COMPLETED, { outputPaths: [...e.outputPaths] }));
      for (const p of e.parents) {
        const pe = table.get(p);
        if (pe) table.promote(pe);
      }
      for (const b of interestedBuilds(e)) checkCompletion(b);
    } else {
      const status = failureStatus(res);
      const message = res.errors.filter((m) => m.includes(e.drvPath)).join("\n") || res.errors.join("\n") || `derivation ${e.drvPath} failed`;
      setStatus(e, "failed");
      opts.log.warn({ drvPath: e.drvPath, exitCode: res.exitCode, builds: [...e.interested] }, "derivation failed");
      const bs = interestedBuilds(e);
      for (const b of bs) registry.emit(b, derivationEvent(e, DerivationEventKind.FAILED, { errorMessage: message, failureStatus: status }));
      for (const b of bs) if (!b.keepGoing) failBuild(b, `derivation ${e.drvPath} failed`, e.drvHash);
      for (const a of table.pendingAncestors(e)) setStatus(a, "dependency_failed");
      for (const b of bs) checkCompletion(b);
    }
    pump();
  }

  function failureStatus(res: RealiseResult): BuildResultStatus {
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

  function armTimeout(b: Build): void {
    if (b.buildTimeout <= 0) return;
    const left = b.submittedAt + b.buildTimeout * 1000 - Date.now();
    b.timeoutTimer = setTimeout(() => {
      failBuild(b, `build_timeout ${b.buildTimeout}s exceeded (wall-clock since submission)`, "");
      pump();
    }, Math.max(0, left));
  }

  function startDispatch(b: Build): void {
    for (const p of b.nodes) {
      const e = table.get(p);
      if (e) table.promote(e);
    }
    checkCompletion(b);
    if (!isTerminal(b.state)) {
      armTimeout(b);
      scheduleProgress(b);
    }
    pump();
  }

  async function submit(params: SubmitParams): Promise<{ build: Build; channel: EventChannel<BuildEvent> }> {
    const { nodes, edges, priorityClass } = params.submission;
    await readDrvs(nodes);
    const invalid = await findInvalidPaths(nodes.flatMap((n) => n.outputPaths));
    if (disposed) throw new ConnectError("scheduler is shutting down", Code.Unavailable);
    // From here on everything is synchronous: the merge is atomic with respect to other calls.
    assertAcyclic(table, nodes, edges);
    const id = uuidv7();
    const { cachedNew, cachedCount } = mergeIntoTable(table, id, nodes, edges, invalid);
    const row: BuildRow = {
      build_id: id, tenant_id: params.tenantId, priority_class: priorityClass, state: "active",
      keep_going: params.keepGoing ? 1 : 0, build_timeout: params.buildTimeout, max_silent_time: params.maxSilentTime, build_cores: params.buildCores,
      submitted_at: Date.now(), total: nodes.length, completed: 0, cached: cachedCount, error_summary: "",
    };
    db.insertBuild(
      row,
      nodes.map((n) => ({
        build_id: id, drv_path: n.drvPath, drv_hash: n.drvHash, pname: n.pname, system: n.system,
        output_names: JSON.stringify(n.outputNames), output_paths: JSON.stringify(n.outputPaths),
        status: table.get(n.drvPath)?.status ?? "queued", executor: "",
      })),
      edges.map((e) => [e.parent, e.child]),
    );
    const b = newBuild(row, nodes.map((n) => n.drvPath), edges);
    builds.set(id, b);
    const channel = registry.attach(b, 0);
    opts.log.info({ buildId: id, nodes: nodes.length, cached: cachedCount, tenantId: params.tenantId }, "build submitted");
    for (const e of cachedNew) registry.emit(b, derivationEvent(e, DerivationEventKind.CACHED, { outputPaths: [...e.outputPaths] }));
    registry.emit(b, { case: "started", value: { totalDerivations: nodes.length, cachedDerivations: cachedCount } });
    registry.emit(b, { case: "inputsResolved", value: {} });
    for (const p of b.nodes) {
      const e = table.get(p);
      if (e?.status === "running" && e.run) registry.emit(b, derivationEvent(e, DerivationEventKind.STARTED, { executorId: e.run.slot }));
    }
    startDispatch(b);
    return { build: b, channel };
  }

  /** Reloads non-terminal builds after a restart (rio's recover_from_pg) and resumes them. */
  async function recover(): Promise<number> {
    db.sweepTerminalEvents();
    const rows = db.liveBuilds();
    const loaded = rows.map((row) => {
      const nodeRows = db.nodesOf(row.build_id);
      const nodes: SubmittedNode[] = nodeRows.map((n) => ({
        drvPath: n.drv_path, drvHash: n.drv_hash, pname: n.pname, system: n.system,
        outputNames: JSON.parse(n.output_names) as string[], outputPaths: JSON.parse(n.output_paths) as string[], drvContent: new Uint8Array(),
      }));
      return { row, nodes, edges: db.edgesOf(row.build_id) };
    });
    const invalid = await findInvalidPaths(loaded.flatMap((l) => l.nodes.flatMap((n) => n.outputPaths)));
    for (const { row, nodes, edges } of loaded) {
      mergeIntoTable(table, row.build_id, nodes, edges, invalid);
      const b = newBuild({ ...row, state: "active" }, nodes.map((n) => n.drvPath), edges);
      for (const r of db.loadEvents(row.build_id)) b.events.push(fromBinary(BuildEventSchema, r.event));
      b.seq = db.maxSequence(row.build_id);
      builds.set(b.id, b);
    }
    if (loaded.length > 0) opts.log.info({ builds: loaded.length }, "recovered non-terminal builds");
    for (const { row } of loaded) {
      const b = builds.get(row.build_id);
      if (b) startDispatch(b);
    }
    return loaded.length;
  }

  /** Stops everything without touching durable state (process exit, failover). */
  async function dispose(): Promise<void> {
    disposed = true;
    for (const b of builds.values()) {
      for (const t of [b.progressTimer, b.timeoutTimer, b.cleanupTimer]) if (t) clearTimeout(t);
      registry.detachAll(b);
    }
    for (const p of pendingLogs.values()) if (p.timer) clearTimeout(p.timer);
    const runs = [...running];
    for (const r of runs) r.proc.kill();
    await Promise.allSettled(runs.map((r) => r.proc.done));
  }

  return {
    builds,
    table,
    rings,
    submit,
    recover,
    dispose,
    cancelBuild,
    forget,
    counts: (b: Build) => buildCounts(table, b),
    progressBody: (b: Build) => progressBody(table, b),
    criticalPathRemaining: (b: Build) => criticalPathRemaining(table, b),
    attach: registry.attach,
    emit: registry.emit,
    detachAll: registry.detachAll,
    freeSlotCount: () => freeSlots.length,
  };
}

export type Engine = ReturnType<typeof createEngine>;
