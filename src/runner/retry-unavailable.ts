/**
 * Rides out a scheduler that is briefly unreachable (restart, failover) with rio's own backoff
 * (rio/backoff.ts, the schedule the rio client uses for SubmitBuild): `unavailable` is retried after
 * 1, 2, 4, 8 and 16 s (about 31 s in all); anything else, or the last failure, is thrown.
 */
import { AppError } from "../errors.js";
import { backoffDelay, defaultSubmitRetryPolicy, sleep, type BackoffPolicy } from "../rio/backoff.js";

/** rio's submit schedule, five retries. */
export const unavailableRetryPolicy: BackoffPolicy = Object.freeze({ ...defaultSubmitRetryPolicy, maxAttempts: 5 });

export async function retryWhileUnavailable<T>(fn: () => Promise<T>, signal: AbortSignal, policy: BackoffPolicy = unavailableRetryPolicy): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await fn();
    } catch (err) {
      if (!AppError.is(err, "unavailable") || failures > policy.maxAttempts || signal.aborted) throw err;
      await sleep(backoffDelay(policy, failures), signal);
    }
  }
}
