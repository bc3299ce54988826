import { describe, expect, it } from "vitest";
import { pendingEvent } from "../../src/core/index.js";
import { apply, freshStore, tempDir } from "./fixture.js";

const dir = tempDir();

// Appends are written with multi-row INSERTs of 64 rows plus single rows for the rest: sizes on
// both sides of that boundary must store every row once, in order, with gapless numbers.
describe("batched appends", () => {
  it.each([1, 63, 64, 65, 128, 200])("stores %i log lines in one append, in order", (n) => {
    const store = freshStore(dir);
    const id = store.submitSync(apply("m")).sync.sync;
    store.appendLogLines(id, [{ source: "build", text: "first" }]);
    const lines = Array.from({ length: n }, (_, i) => ({ source: "build" as const, derivation: i % 2 ? "/nix/store/x.drv" : null, text: `line ${i}` }));
    const result = store.appendLogLines(id, lines);
    expect(result.nextLine).toBe(n + 1);
    const page = store.logLines("acme", "m", id, { sinceLine: 1, limit: 1000 });
    expect(page.lines).toEqual(lines.map((l, i) => ({ line: i + 1, source: "build", derivation: l.derivation, text: l.text })));
    expect(store.logLines("acme", "m", id, { derivation: "/nix/store/x.drv", limit: 1000 }).lines).toHaveLength(Math.floor(n / 2));
  });

  it.each([1, 64, 130])("stores %i events in one append with gapless seq", (n) => {
    const store = freshStore(dir);
    const id = store.submitSync(apply("m")).sync.sync;
    store.claimRunnable(1);
    store.transitionSync(id, "evaluating", "building");
    const before = store.eventsSince("acme", "m", 0, 1000).next;
    const counters = (i: number) => ({ total: n, completed: i, cached: 0, running: 1, failed: 0, queued: n - i, critical_path_remaining_secs: 0 });
    const stored = store.recordSyncProgress(id, { counters: counters(n), events: Array.from({ length: n }, (_, i) => pendingEvent("build.progress", id, counters(i))) });
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => before + 1 + i));
    const replay = store.eventsSince("acme", "m", before, 1000).events;
    expect(replay).toEqual(stored);
    expect(replay.map((e) => (e.data as { completed: number }).completed)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
