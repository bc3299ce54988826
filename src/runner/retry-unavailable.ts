/**
 * Rides out a scheduler that is briefly unreachable (restart, failover) the way `rio.submit`
 * does for SubmitBuild: `unavailable` is retried with backoff (about 31 s in all), anything
 * else, or the last failure, is thrown.
 */
import { AppError } from "../errors.js";

export async function retryWhileUnavailable<T>(fn: () => Promise<T>, signal: AbortSignal, delaysMs: readonly number[] = [1000, 2000, 4000, 8000, 16000]): Promise<T> {
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
