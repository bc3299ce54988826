import { describe, expect, it } from "vitest";
import { backoffDelay, defaultReattachPolicy, sleep } from "./backoff.js";

describe("backoff", () => {
  it("follows 1,2,4,8,16 s then stays at 16 s, with at least 10 tries", () => {
    const delays = Array.from({ length: 8 }, (_, i) => backoffDelay(defaultReattachPolicy, i + 1));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 16000, 16000, 16000]);
    expect(defaultReattachPolicy.maxAttempts).toBeGreaterThanOrEqual(10);
  });

  it("sleep ends early when the signal fires", async () => {
    const ctrl = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ctrl.abort(), 20);
    await sleep(10_000, ctrl.signal);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
