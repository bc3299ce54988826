/**
 * One sync through its phases: evaluate → build on rio → deploy (apply), deploy a stored
 * generation (rollback), or tear down. Every step starts from what the store says, so the same
 * code resumes a sync after a restart: a sync found `building` with a build id re-attaches from
 * its stored rio sequence, one found `deploying` re-runs its (idempotent) deployer. Each phase
 * lives in its own file (evaluate-phase, build-phase, deploy-phase) and ends a sync by throwing a
 * SyncFailure (sync-failure.ts).
 */
import type { Logger } from "pino";
import type { SyncState } from "../core/index.js";
import { assertNever, pendingEvent } from "../core/index.js";
import { AppError } from "../errors.js";
import type { EvaluationResult } from "../eval/index.js";
import type { Store, SyncRecord } from "../store/index.js";
import { runBuildPhase } from "./build-phase.js";
import { deploy, teardown } from "./deploy-phase.js";
import { evaluate, topLevelOutputs } from "./evaluate-phase.js";
import type { SyncRunDeps } from "./sync-deps.js";
import { asSyncFailure, type SyncFailure } from "./sync-failure.js";

export type { PhaseTimeouts, SyncRunDeps } from "./sync-deps.js";

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
        if (reattach) await runBuildPhase(deps, record, null, new Map(), signal, log);
        // Evaluation is a pure function of the stored configuration, so a resumed sync evaluates
        // again to learn its outputs (and to hold GC roots) instead of storing them twice.
        evaluation = await evaluate(deps, type, record, signal);
        const outputs = topLevelOutputs(evaluation);
        if (state === "evaluating") {
          deps.store.transitionSync(record.id, "evaluating", "building");
          enterPhase("building");
        }
        if (state === "building") {
          if (!reattach) await runBuildPhase(deps, record, evaluation.dag, new Map(evaluation.dag.nodes.map((n) => [n.drvPath, n.pname])), signal, log);
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
      default:
        assertNever(record.flow, "sync flow");
    }
  } catch (err) {
    if (signal.aborted) {
      log.info("sync interrupted (cancelled or superseded)");
      return;
    }
    const failure = asSyncFailure(err, state);
    log.warn({ code: failure.error.code, err: failure.error.message }, "sync failed");
    finishQuietly(deps.store, record.id, state, failure, log);
  } finally {
    deps.metrics?.phaseDuration.observe({ phase: phaseStart.state, outcome: signal.aborted ? "interrupted" : "ended" }, (Date.now() - phaseStart.at) / 1000);
    await evaluation?.release().catch(() => undefined);
  }
}

function finishQuietly(store: Store, syncId: string, from: SyncState, failure: SyncFailure, log: Logger): void {
  try {
    store.finishSync(syncId, { from, state: failure.state, error: failure.error });
  } catch (err) {
    // A conflict here means the sync moved on meanwhile (cancelled, superseded): that wins.
    log.warn({ err: AppError.from(err).message }, "could not record the sync's failure");
  }
}
