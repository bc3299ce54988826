/**
 * The evaluation phase of an apply: waits for an evaluation slot, evaluates the stored
 * configuration, and refuses an evaluation with broken jobs or none at all (eval_failed).
 */
import type { DeploymentType, EvaluationResult } from "../eval/index.js";
import { describeEvalErrors } from "../eval/index.js";
import type { SyncRecord } from "../store/index.js";
import type { SyncRunDeps } from "./sync-deps.js";
import { fail } from "./sync-failure.js";

export async function evaluate(deps: SyncRunDeps, type: DeploymentType, record: SyncRecord, signal: AbortSignal): Promise<EvaluationResult> {
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
    const message =
      broken.length > 0
        ? describeEvalErrors(broken.map((j) => ({ message: "evaluation failed", file: null, line: null, column: null, ...j.error, attr: j.attr })))
        : "the configuration evaluated to no derivations";
    throw fail("eval_failed", message);
  }
  return result;
}

/** The `out` path of each top-level job: what the deployer activates, in job order. */
export function topLevelOutputs(evaluation: EvaluationResult): string[] {
  return evaluation.jobs.map((j) => {
    const out = j.outputs?.out ?? Object.values(j.outputs ?? {})[0];
    if (!out) throw fail("eval_failed", `job ${j.attr} has no output path`);
    return out;
  });
}
