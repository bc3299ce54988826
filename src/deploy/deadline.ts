/**
 * One AbortSignal for an operation that fires on the caller's abort or when the timeout passes.
 * Its reason is the AppError the operation fails with (`cancelled` or `timeout`).
 */
import { AppError } from "../errors.js";

export interface Deadline {
  readonly signal: AbortSignal;
  dispose(): void;
}

export function createDeadline(parent: AbortSignal | undefined, timeoutMs: number | undefined, what: string): Deadline {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(new AppError("cancelled", `${what} cancelled`));
  if (parent?.aborted) onAbort();
  else parent?.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs !== undefined && timeoutMs > 0
      ? setTimeout(() => controller.abort(new AppError("timeout", `${what} timed out after ${formatSeconds(timeoutMs)}`)), timeoutMs)
      : undefined;
  return {
    signal: controller.signal,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      parent?.removeEventListener("abort", onAbort);
    },
  };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
