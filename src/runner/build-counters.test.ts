import { describe, expect, it } from "vitest";
import type { BuildCounters } from "../core/index.js";
import { countersAfterFailure, countersAtEnd, countersAtStart, countersFromProgress, noCounters } from "./build-counters.js";

const sum = (c: BuildCounters) => c.completed + c.cached + c.running + c.failed + c.queued;
const progress = (total: number, completed: number, running: number, queued: number) => ({ total, completed, running, queued, criticalPathRemainingSecs: 5 });

describe("build counters from rio's events", () => {
  it("take cached derivations out of rio's completed (the reported total 9, completed 8, cached 7)", () => {
    const started = countersAtStart(noCounters, 9, 7);
    expect(started).toEqual({ total: 9, completed: 0, cached: 7, running: 0, failed: 0, queued: 2, critical_path_remaining_secs: null });
    const mid = countersFromProgress(started, progress(9, 8, 1, 0));
    expect(mid).toEqual({ total: 9, completed: 1, cached: 7, running: 1, failed: 0, queued: 0, critical_path_remaining_secs: 5 });
    expect(countersAtEnd(mid, true)).toEqual({ total: 9, completed: 2, cached: 7, running: 0, failed: 0, queued: 0, critical_path_remaining_secs: 0 });
  });

  it("count what rio leaves out of its buckets as failed (dependency-failed, cancelled), never twice with FAILED events", () => {
    let c = countersAtStart(noCounters, 6, 1);
    c = countersAfterFailure(c, 1);
    expect(c).toMatchObject({ failed: 1, cached: 1, completed: 0 });
    // rio: 2 completed (1 of them cached), 1 running, 1 queued: 2 failed (the FAILED one and its dependant).
    c = countersFromProgress(c, progress(6, 2, 1, 1));
    expect(c).toMatchObject({ total: 6, completed: 1, cached: 1, failed: 2, running: 1, queued: 1 });
    c = countersAfterFailure(c, 1);
    expect(c.failed).toBe(2);
    const end = countersAtEnd(c, false);
    expect(end).toEqual({ total: 6, completed: 1, cached: 1, failed: 3, running: 0, queued: 1, critical_path_remaining_secs: null });
  });

  it("never go backwards when rio's numbers shrink (graph-relative after a leader failover) or a re-attached build starts from stored counters", () => {
    const stored: BuildCounters = { total: 10, completed: 4, cached: 3, running: 2, failed: 0, queued: 1, critical_path_remaining_secs: 9 };
    // After recovery rio's summary only covers the recovered (unfinished) part of the graph.
    const c = countersFromProgress(stored, progress(3, 1, 1, 1));
    expect(c).toEqual({ total: 10, completed: 4, cached: 3, failed: 0, running: 1, queued: 2, critical_path_remaining_secs: 5 });
    for (const k of ["total", "completed", "cached", "failed"] as const) expect(c[k]).toBeGreaterThanOrEqual(stored[k]);
    expect(sum(c)).toBe(c.total);
  });

  it("add up to total after any sequence of events", () => {
    let c = noCounters;
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2_000; i++) {
      const before = c;
      const r = rnd(4);
      if (r === 0) c = countersAtStart(c, rnd(20), rnd(10));
      else if (r === 1) c = countersFromProgress(c, progress(rnd(20), rnd(20), rnd(5), rnd(10)));
      else if (r === 2) c = countersAfterFailure(c, rnd(4));
      else c = countersAtEnd(c, rnd(2) === 0);
      expect(sum(c)).toBe(c.total);
      for (const k of ["total", "completed", "cached", "failed", "running", "queued"] as const) expect(c[k]).toBeGreaterThanOrEqual(k === "running" || k === "queued" ? 0 : before[k]);
    }
  });
});
