/**
 * One sync through its phases: evaluate → build on rio → deploy (apply), deploy a stored
 * generation (rollback), or tear down. Every step starts from what the store says, so the same
 * code resumes a sync after a restart: a sync found `building` with a build id re-attaches from
 * its stored rio sequence, one found `deploying` re-runs its (idempotent) deployer.
 */
import type { Logger } from "pino";
import type { BuildDag } from "../core/dag.js";
import type { BuildCounters, SyncError, SyncState } from "../core/index.js";
import { pendingEvent } from "../core/index.js";
import type { Deployer } from "../deploy/index.js";
import { AppError } from "../errors.js";
import type { DeploymentType, EvalErrorInfo, EvaluationResult, Evaluator } from "../eval/index.js";
import { EvalFailedError } from "../eval/index.js";
import type { ServiceMetrics } from "../metrics.js";
import type { RioClient, TerminalRioEvent } from "../rio/index.js";
import { explainUndispatched } from "../rio/index.js";
import type { NewLogLine, Store, SyncRecord } from "../store/index.js";
import { findUnrecordedBuild } from "./adopt-build.js";
import { createBuildRecorder } from "./build-recorder.js";
import { settleForgottenBuild } from "./settle-build.js";
import type { Slots } from "./slots.js";

export interface PhaseTimeouts {
  readonly evalMs: number;
  readonly buildMs: number;
  readonly deployMs: number;
}

export interface SyncRunDeps {
  readonly store: Store;
  readonly evaluator: Evaluator;
  readonly rio: RioClient;
  readonly deploymentType: (name: string) => DeploymentType;
  readonly deployerFor: (type: DeploymentType) => Deployer;
  /** Copies the DAG's inputs to rio-store before submitting (real rio-build only). */
  readonly copyInputs?: (dag: BuildDag, tenant: string, signal: AbortSignal) => Promise<void>;
  /** Makes sure rio knows the tenant (rio answers invalid_argument for unknown tenant names). */
  readonly ensureTenant: (tenant: string) => Promise<void>;
  readonly timeouts: PhaseTimeouts;
  /** Bounds concurrent Nix evaluations (each is a process tree); unbounded when absent. */
  readonly evaluationSlots?: Slots;
  readonly logger: Logger;
  readonly metrics?: ServiceMetrics;
}

/** Thrown inside a phase to end the sync with this outcome. */
class SyncFailure extends Error {
  constructor(
    readonly state: "failed" | "timed_out",
    readonly error: SyncError,
  ) {
    super(error.message);
  }
}

const fail = (code: SyncError["code"], message: string, derivation: string | null = null) =>
  new SyncFailure(code === "timeout" ? "timed_out" : "failed", { code, message, derivation });

/**
 * Runs (or resumes) `record` until it is terminal or `signal` fires. A fired signal means the sync
 * was cancelled or superseded: the store already says so, and nothing more is written.
 */
export async function runSync(deps: SyncRunDeps, record: SyncRecord, signal: AbortSignal): Promise<void> {
  const log = deps.logger.child({ tenant: record.tenant, deployment: record.deployment, sync: record.id });
  let state: SyncState = record.state;
  let evaluation: EvaluationResult | null = null;
  const phaseStart = { at: Date.now(), state };
  const enterPhase = (next: SyncState) => {
    deps.metrics?.phaseDuration.observe({ phase: phaseStart.state, outcome: "done" }, (Date.now() - phaseStart.at) / 1000);
    phaseStart.at = Date.now();
    phaseStart.state = next;
    state = next;
  };
  try {
    const type = deps.deploymentType(record.deploymentType);
    switch (record.flow) {
      case "apply": {
        // A sync resumed in `building` with a build id re-attaches at once: its build needs no
        // evaluation, and after a restart with many builds in flight, evaluating each one first
        // would delay every re-attach by all the evaluations queued before it.
        const reattach = state === "building" && record.buildId !== null;
        if (reattach) await build(deps, record, null, new Map(), signal, log);
        // Evaluation is a pure function of the stored configuration, so a resumed sync evaluates
        // again to learn its outputs (and to hold GC roots) instead of storing them twice.
        evaluation = await evaluate(deps, type, record, signal);
        const outputs = topLevelOutputs(evaluation);
        if (state === "evaluating") {
          deps.store.transitionSync(record.id, "evaluating", "building");
          enterPhase("building");
        }
        if (state === "building") {
          if (!reattach) await build(deps, record, evaluation.dag, new Map(evaluation.dag.nodes.map((n) => [n.drvPath, n.pname])), signal, log);
          deps.store.transitionSync(record.id, "building", "deploying", { events: [pendingEvent("deploy.started", record.id, { outputs })] });
          enterPhase("deploying");
        }
        await deploy(deps, type, record, "apply", outputs, signal);
        break;
      }
      case "rollback": {
        if (record.rollbackGeneration === null) throw new AppError("internal", "rollback without a generation");
        const gen = deps.store.getGeneration(record.tenant, record.deployment, record.rollbackGeneration);
        await deploy(deps, type, record, "rollback", gen.outputPaths, signal);
        break;
      }
      case "teardown":
        await teardown(deps, type, record, signal);
        break;
      default: {
        const never: never = record.flow;
        throw new AppError("internal", `unknown flow ${String(never)}`);
      }
    }
  } catch (err) {
    if (signal.aborted) {
      log.info("sync interrupted (cancelled or superseded)");
      return;
    }
    const failure = err instanceof SyncFailure ? err : asSyncFailure(err, state);
    log.warn({ code: failure.error.code, err: failure.error.message }, "sync failed");
    finishQuietly(deps.store, record.id, state, failure, log);
  } finally {
    deps.metrics?.phaseDuration.observe({ phase: phaseStart.state, outcome: signal.aborted ? "interrupted" : "ended" }, (Date.now() - phaseStart.at) / 1000);
    await evaluation?.release().catch(() => undefined);
  }
}

function asSyncFailure(err: unknown, state: SyncState): SyncFailure {
  if (EvalFailedError.is(err)) {
    const first = err.errors[0];
    const where = first?.file ? ` (${first.file}:${first.line ?? "?"}:${first.column ?? "?"})` : "";
    return fail("eval_failed", `${err.message}${where}`);
  }
  const e = AppError.from(err);
  if (e.code === "timeout") return fail("timeout", e.message);
  const phaseCode: Partial<Record<SyncState, SyncError["code"]>> = {
    evaluating: "eval_failed",
    deploying: "deploy_failed",
    destroying: "teardown_failed",
  };
  if (e.code === "invalid_argument" && state === "evaluating") return fail("eval_failed", e.message);
  return fail(phaseCode[state] ?? "internal", e.message);
}

function finishQuietly(store: Store, syncId: string, from: SyncState, failure: SyncFailure, log: Logger): void {
  try {
    store.finishSync(syncId, { from, state: failure.state, error: failure.error });
  } catch (err) {
    // A conflict here means the sync moved on meanwhile (cancelled, superseded): that wins.
    log.warn({ err: AppError.from(err).message }, "could not record the sync's failure");
  }
}

async function evaluate(deps: SyncRunDeps, type: DeploymentType, record: SyncRecord, signal: AbortSignal): Promise<EvaluationResult> {
  // Waiting for a free evaluation slot is not the sync's fault: the phase timeout starts when its
  // evaluation does. A cancelled or superseded sync stops waiting.
  const release = deps.evaluationSlots ? await deps.evaluationSlots.acquire(signal) : () => undefined;
  let result: EvaluationResult;
  try {
    result = await deps.evaluator.evaluate(type, record.configuration, {
      signal,
      timeoutMs: Math.min(type.eval.timeoutMs, deps.timeouts.evalMs),
      rootsKey: record.id,
      skipValidation: true,
    });
  } finally {
    release();
  }
  const broken = result.jobs.filter((j) => j.error !== undefined);
  if (broken.length > 0 || result.jobs.length === 0) {
    await result.release();
    const message = broken.length > 0 ? broken.map((j) => describeJobError(j.attr, j.error)).join("\n") : "the configuration evaluated to no derivations";
    throw fail("eval_failed", message);
  }
  return result;
}

/** `attr: message (file:line:column)` for a job that failed to evaluate. */
function describeJobError(attr: string, error: EvalErrorInfo | undefined): string {
  const where = error?.file ? ` (${error.file}:${error.line ?? "?"}:${error.column ?? "?"})` : "";
  return `${attr ? `${attr}: ` : ""}${error?.message ?? "evaluation failed"}${where}`;
}

/** The `out` path of each top-level job: what the deployer activates, in job order. */
function topLevelOutputs(evaluation: EvaluationResult): string[] {
  return evaluation.jobs.map((j) => {
    const out = j.outputs?.out ?? Object.values(j.outputs ?? {})[0];
    if (!out) throw fail("eval_failed", `job ${j.attr} has no output path`);
    return out;
  });
}

/**
 * Submits `dag` (or, for a sync that already has a build id, re-attaches from its stored
 * sequence; `dag` is then not needed) and records the build's events until it ends.
 */
async function build(
  deps: SyncRunDeps,
  record: SyncRecord,
  dag: BuildDag | null,
  pnames: ReadonlyMap<string, string>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), deps.timeouts.buildMs);
  const both = AbortSignal.any([signal, timer.signal]);
  let recordError: unknown = null;
  // A re-attached build continues from the counters already recorded (its BuildStarted is not replayed).
  const storedBuild = record.buildId !== null ? deps.store.getSync(record.tenant, record.deployment, record.id).build : null;
  let stored: BuildCounters | null = null;
  if (storedBuild) {
    const { build_id: _buildId, ...counters } = storedBuild;
    stored = counters;
  }
  const recorder = createBuildRecorder(
    deps.store,
    record.id,
    pnames,
    (err) => {
      recordError ??= err;
    },
    stored,
  );
  try {
    let outcome;
    if (record.buildId !== null) {
      log.info({ buildId: record.buildId, since: record.rioSequence }, "re-attaching to build");
      outcome = await deps.rio.follow(record.buildId, { since: record.rioSequence, signal: both, onEvent: (e) => recorder.record(e) });
    } else {
      if (!dag) throw new AppError("internal", "a build without a build id needs its derivation graph");
      const adopted = record.submitAttempted ? await retryWhileUnavailable(() => findUnrecordedBuild(deps.rio, deps.store, record, dag), both) : null;
      if (adopted !== null) {
        deps.store.recordBuildSubmitted(record.id, adopted);
        deps.metrics?.rioBuildsAdopted.inc();
        log.info({ buildId: adopted }, "adopted the build submitted before the restart (its id had not been stored)");
        outcome = await deps.rio.follow(adopted, { since: 0, signal: both, onEvent: (e) => recorder.record(e) });
      } else {
        if (deps.copyInputs) await deps.copyInputs(dag, record.tenant, both);
        await retryWhileUnavailable(() => deps.ensureTenant(record.tenant), both);
        deps.store.recordSubmitAttempt(record.id);
        const submitted = await deps.rio.submit(
          {
            dag,
            tenant: record.tenant,
            priority: record.priority,
            buildTimeoutSecs: Math.ceil(deps.timeouts.buildMs / 1000),
          },
          { signal: both },
        );
        // Durable before anything else: after a crash from here on, the build is re-attached, never resubmitted.
        try {
          deps.store.recordBuildSubmitted(record.id, submitted.buildId);
        } catch (err) {
          // Superseded or cancelled while the submit was on its way: the interrupt found no build id
          // to cancel, so cancel the build here rather than leave it to rio's orphan timeout.
          submitted.close();
          await deps.rio.cancel(submitted.buildId, signal.aborted ? "interrupted" : "not recorded").catch(() => false);
          throw err;
        }
        log.info({ buildId: submitted.buildId }, "build submitted");
        outcome = await submitted.follow({ signal: both, onEvent: (e) => recorder.record(e) });
      }
    }
    recorder.flush();
    if (recordError) throw recordError;
    if (outcome.type === "aborted") {
      if (timer.signal.aborted && !signal.aborted) throw fail("timeout", `build exceeded ${deps.timeouts.buildMs / 1000} s`);
      throw new AppError("cancelled", "build follow aborted");
    }
    if (outcome.type === "gone") {
      const buildId = deps.store.getSyncRecord(record.id).buildId ?? record.buildId ?? "";
      const settled = await settleForgottenBuild(deps.rio, buildId, record.tenant);
      if (settled === "succeeded") return;
      throw fail("scheduler_lost", `rio-build no longer knows build ${buildId} (${settled})`);
    }
    handleTerminal(outcome.event, recorder.lastFailure);
  } catch (err) {
    if (timer.signal.aborted && !signal.aborted) {
      // Asked before the cancel: what the build still waited for says why it ran out of time.
      const buildId = deps.store.getSyncRecord(record.id).buildId;
      const why = buildId === null ? null : await explainUndispatched(deps.rio, buildId);
      await cancelBuildQuietly(deps, record.id, "timeout", log);
      throw fail("timeout", `build exceeded ${deps.timeouts.buildMs / 1000} s${why ? `: ${why}` : ""}`);
    }
    throw err;
  } finally {
    clearTimeout(timeout);
    recorder.flush();
  }
}

function handleTerminal(event: TerminalRioEvent, lastFailure: { drv: string; message: string } | null): void {
  switch (event.type) {
    case "completed":
      return;
    case "failed": {
      const drv = event.failedDerivation || lastFailure?.drv || null;
      if (/build_timeout/.test(event.errorMessage)) throw fail("timeout", event.errorMessage, drv);
      const detail = lastFailure && lastFailure.drv === drv && lastFailure.message ? `: ${lastFailure.message}` : "";
      throw fail("build_failed", `${event.errorMessage || "build failed"}${detail}`, drv);
    }
    case "cancelled":
      throw fail("scheduler_lost", `rio-build cancelled the build: ${event.reason || "no reason given"}`);
    default: {
      const never: never = event;
      throw new AppError("internal", `unknown terminal event ${String(never)}`);
    }
  }
}

async function cancelBuildQuietly(deps: SyncRunDeps, syncId: string, reason: string, log: Logger): Promise<void> {
  const buildId = deps.store.getSyncRecord(syncId).buildId;
  if (!buildId) return;
  await deps.rio.cancel(buildId, reason).catch((err: unknown) => log.warn({ err: AppError.from(err).message }, "cancel of rio build failed"));
}

function lineSink(store: Store, syncId: string) {
  let pending: NewLogLine[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    store.appendLogLines(syncId, batch);
  };
  return {
    onLine: (_source: "deploy", text: string) => {
      pending.push({ source: "deploy", text });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          try {
            flush();
          } catch {
            // The sync ended meanwhile; its log is complete.
          }
        });
      }
    },
    flush,
  };
}

async function deploy(
  deps: SyncRunDeps,
  type: DeploymentType,
  record: SyncRecord,
  how: "apply" | "rollback",
  outputs: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const view = deps.store.getDeployment(record.tenant, record.deployment);
  const live = view.generation;
  const previous = live === null ? null : deps.store.getGeneration(record.tenant, record.deployment, live);
  const deployer = deps.deployerFor(type);
  const sink = lineSink(deps.store, record.id);
  const ctx = {
    tenant: record.tenant,
    deployment: record.deployment,
    sync: record.id,
    generation: how === "rollback" && record.rollbackGeneration !== null ? record.rollbackGeneration : (record.generation ?? latestGeneration(deps.store, record) + 1),
    outputs,
    previous: previous ? { generation: previous.number, outputs: previous.outputPaths } : null,
    secrets: type.secrets,
    signal,
    timeoutMs: deps.timeouts.deployMs,
    onLine: sink.onLine,
  };
  try {
    if (how === "apply") await deployer.apply(ctx);
    else await deployer.rollback(ctx);
  } finally {
    sink.flush();
  }
  deps.store.finishSync(record.id, {
    from: "deploying",
    state: "succeeded",
    outputPaths: outputs,
    events: [pendingEvent("deploy.finished", record.id, { outputs })],
  });
}

function latestGeneration(store: Store, record: SyncRecord): number {
  const gens = store.listGenerations(record.tenant, record.deployment);
  return gens.reduce((max, g) => Math.max(max, g.number), 0);
}

async function teardown(deps: SyncRunDeps, type: DeploymentType, record: SyncRecord, signal: AbortSignal): Promise<void> {
  const view = deps.store.getDeployment(record.tenant, record.deployment);
  const live = view.generation;
  const gen = live === null ? null : deps.store.getGeneration(record.tenant, record.deployment, live);
  const sink = lineSink(deps.store, record.id);
  try {
    await deps.deployerFor(type).teardown({
      tenant: record.tenant,
      deployment: record.deployment,
      sync: record.id,
      generation: live ?? 0,
      outputs: gen?.outputPaths ?? [],
      previous: null,
      secrets: type.secrets,
      signal,
      timeoutMs: deps.timeouts.deployMs,
      onLine: sink.onLine,
    });
  } finally {
    sink.flush();
  }
  deps.store.finishSync(record.id, { from: "destroying", state: "succeeded", events: [pendingEvent("deploy.finished", record.id, { teardown: true })] });
}

/**
 * Rides out a scheduler that is briefly unreachable (restart, failover) the way `rio.submit`
 * does for SubmitBuild: `unavailable` is retried with backoff (about 31 s in all), anything
 * else, or the last failure, is thrown.
 */
async function retryWhileUnavailable<T>(fn: () => Promise<T>, signal: AbortSignal, delaysMs: readonly number[] = [1000, 2000, 4000, 8000, 16000]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = delaysMs[attempt];
      if (!AppError.is(err, "unavailable") || delay === undefined || signal.aborted) throw err;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, delay);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }
}
