/**
 * When a failed delivery is tried again: exponential backoff from `firstDelayMs`, doubling up to
 * `maxDelayMs`, for `giveUpAfterMs` counted from the delivery's first attempt; after that the
 * delivery is `failed`. The defaults are the contract's (about 10 s doubling to 1 h, for 24 h);
 * tests and operators can shorten them.
 */

export interface RetrySchedule {
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  readonly giveUpAfterMs: number;
  /** Up to this fraction is added to each delay at random, so receivers that failed together do not all come back at once. */
  readonly jitter: number;
}

export const defaultRetrySchedule: RetrySchedule = Object.freeze({
  firstDelayMs: 10_000,
  maxDelayMs: 3_600_000,
  giveUpAfterMs: 86_400_000,
  jitter: 0.1,
});

/** The delay after failed attempt number `attempt` (1-based), jitter included. */
export function retryDelayMs(schedule: RetrySchedule, attempt: number, random: () => number = Math.random): number {
  const doublings = Math.min(Math.max(attempt, 1) - 1, 52);
  const base = Math.min(schedule.firstDelayMs * 2 ** doublings, schedule.maxDelayMs);
  return Math.round(base * (1 + schedule.jitter * random()));
}

export interface RetryInput {
  /** The number of the attempt that just failed (1-based). */
  readonly attempt: number;
  readonly firstAttemptAt: Date;
  readonly failedAt: Date;
}

/** When to try again, or null when the delivery has run out of time and is `failed`. */
export function nextAttemptAt(schedule: RetrySchedule, input: RetryInput, random: () => number = Math.random): Date | null {
  const at = input.failedAt.getTime() + retryDelayMs(schedule, input.attempt, random);
  if (at > input.firstAttemptAt.getTime() + schedule.giveUpAfterMs) return null;
  return new Date(at);
}

/** Problems with a schedule, as messages (empty when it is usable). */
export function scheduleProblems(schedule: RetrySchedule): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(schedule.firstDelayMs) || schedule.firstDelayMs < 1) problems.push("the first delay must be a positive number of milliseconds");
  if (!Number.isInteger(schedule.maxDelayMs) || schedule.maxDelayMs < schedule.firstDelayMs) problems.push("the longest delay must be at least the first delay");
  if (!Number.isInteger(schedule.giveUpAfterMs) || schedule.giveUpAfterMs < 0) problems.push("the retry period must be zero or more milliseconds");
  if (!(schedule.jitter >= 0 && schedule.jitter <= 1)) problems.push("jitter must be between 0 and 1");
  return problems;
}
