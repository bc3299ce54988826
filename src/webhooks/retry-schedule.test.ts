import { describe, expect, it } from "vitest";
import { defaultRetrySchedule, nextAttemptAt, retryDelayMs, scheduleProblems } from "./retry-schedule.js";

const noJitter = () => 0;

describe("retry schedule", () => {
  it("defaults to 10 s doubling up to 1 h", () => {
    const delays = Array.from({ length: 12 }, (_, i) => retryDelayMs(defaultRetrySchedule, i + 1, noJitter) / 1000);
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]);
  });

  it("keeps trying for 24 h from the first attempt, then gives up", () => {
    const first = new Date("2026-01-01T00:00:00Z");
    let at = first;
    let attempt = 1;
    for (;;) {
      const next = nextAttemptAt(defaultRetrySchedule, { attempt, firstAttemptAt: first, failedAt: at }, noJitter);
      if (next === null) break;
      at = next;
      attempt += 1;
    }
    const lastTry = at.getTime() - first.getTime();
    expect(lastTry).toBeLessThanOrEqual(24 * 3600_000);
    expect(lastTry).toBeGreaterThan(23 * 3600_000);
    // 9 growing delays reach 1 h after about 85 min; then hourly: about 31 attempts in all.
    expect(attempt).toBeGreaterThanOrEqual(29);
    expect(attempt).toBeLessThanOrEqual(33);
  });

  it("adds at most the jitter fraction", () => {
    expect(retryDelayMs(defaultRetrySchedule, 1, () => 0.999999)).toBeLessThanOrEqual(11_000);
    expect(retryDelayMs(defaultRetrySchedule, 1, () => 0.5)).toBe(10_500);
  });

  it("a short schedule for tests gives up quickly", () => {
    const s = { firstDelayMs: 50, maxDelayMs: 200, giveUpAfterMs: 500, jitter: 0 };
    const first = new Date(0);
    expect(nextAttemptAt(s, { attempt: 1, firstAttemptAt: first, failedAt: new Date(10) }, noJitter)?.getTime()).toBe(60);
    expect(nextAttemptAt(s, { attempt: 4, firstAttemptAt: first, failedAt: new Date(400) }, noJitter)).toBeNull();
  });

  it("reports unusable schedules", () => {
    expect(scheduleProblems(defaultRetrySchedule)).toEqual([]);
    expect(scheduleProblems({ firstDelayMs: 0, maxDelayMs: -1, giveUpAfterMs: -1, jitter: 2 })).toHaveLength(4);
  });
});
