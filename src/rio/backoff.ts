/** Retry schedules for re-attaching and for resubmitting before headers. */

export interface BackoffPolicy {
  /** Delays in ms for try 1, 2, …; the last one repeats. */
  readonly delaysMs: readonly number[];
  /** Retries after a failure (the first try is not counted) before giving up. */
  readonly maxAttempts: number;
}

/** The gateway's schedule: 1, 2, 4, 8, 16 s, then 16 s; 10 tries (≈111 s, under the 300 s orphan grace). */
export const defaultReattachPolicy: BackoffPolicy = Object.freeze({
  delaysMs: Object.freeze([1000, 2000, 4000, 8000, 16000]),
  maxAttempts: 10,
});

/** Before headers nothing was created, so resubmitting is safe; bounded so a dead cluster surfaces. */
export const defaultSubmitRetryPolicy: BackoffPolicy = Object.freeze({
  delaysMs: Object.freeze([1000, 2000, 4000, 8000, 16000]),
  maxAttempts: 6,
});

/** Delay before try `attempt` (1-based count of failures so far). */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  const { delaysMs } = policy;
  if (delaysMs.length === 0) return 0;
  const index = Math.min(Math.max(attempt, 1), delaysMs.length) - 1;
  return delaysMs[index] ?? 0;
}

/** Resolves after `ms`, or early (without throwing) when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
