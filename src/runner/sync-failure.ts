/**
 * How a phase ends its sync: it throws a SyncFailure carrying the sync's error (code from the sync
 * error list of docs/api.md: eval_failed, build_failed, …) and its terminal state; runSync records
 * it. Anything else a phase throws is turned into one by `asSyncFailure`, after the phase it broke.
 */
import type { SyncError, SyncState } from "../core/index.js";
import { AppError } from "../errors.js";
import { describeEvalErrors, EvalFailedError } from "../eval/index.js";

/**
 * The one Error subclass of the runner besides AppError: it carries a SyncError (a code of the
 * sync error list, which AppError's call error codes do not cover) and the terminal state to
 * record. It never leaves the runner; callers see it as the sync's `error`.
 */
export class SyncFailure extends Error {
  override readonly name = "SyncFailure";
  constructor(
    readonly state: "failed" | "timed_out",
    readonly error: SyncError,
  ) {
    super(error.message);
  }
}

export const fail = (code: SyncError["code"], message: string, derivation: string | null = null): SyncFailure =>
  new SyncFailure(code === "timeout" ? "timed_out" : "failed", { code, message, derivation });

export function asSyncFailure(err: unknown, state: SyncState): SyncFailure {
  if (err instanceof SyncFailure) return err;
  if (err instanceof EvalFailedError) return fail("eval_failed", err.errors.length > 0 ? describeEvalErrors(err.errors) : err.message);
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
