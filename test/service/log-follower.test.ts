/**
 * build.logs follow mode over a real SQLite store: lines handed over from commits and lines read
 * back from the store must together be exactly the stored log, in order, without gaps or repeats.
 */
import { describe, expect, it } from "vitest";
import type { LogsResult } from "../../src/core/index.js";
import { committedLogLines, followLogLines } from "../../src/service/log-follower.js";
import type { Store } from "../../src/store/index.js";
import { apply, freshStore, tempDir } from "../store/fixture.js";

const dir = tempDir();

function harness(store: Store) {
  const committed = committedLogLines(store).emitter;
  let reads = 0;
  const readPage = (sync: string, derivation?: string) => (since: number, limit: number): LogsResult => {
    reads++;
    const page = store.logLines("acme", "m", sync, { sinceLine: since, limit, ...(derivation ? { derivation } : {}) });
    return { lines: page.lines, next_line: page.next_line, complete: page.complete };
  };
  return { committed, readPage, reads: () => reads };
}

/** A running sync of deployment m with `before` lines already stored. */
function runningSync(store: Store, before: number): string {
  const id = store.submitSync(apply("m")).sync.sync;
  store.claimRunnable(1);
  store.transitionSync(id, "evaluating", "building");
  if (before > 0) store.appendLogLines(id, Array.from({ length: before }, (_, i) => ({ source: "build" as const, text: `early ${i}` })));
  return id;
}

const tick = () => new Promise((r) => setImmediate(r));

describe("log follower", () => {
  it("pages the stored lines, then hands over committed lines without re-reading the store, then ends with the sync", async () => {
    const store = freshStore(dir);
    const h = harness(store);
    const id = runningSync(store, 25);
    const abort = new AbortController();
    const pages: LogsResult[] = [];
    const done = (async () => {
      for await (const p of followLogLines(h.committed, { sync: id, sinceLine: 0, limit: 10, signal: abort.signal }, h.readPage(id))) pages.push(p);
    })();
    await tick();
    const readsAfterBacklog = h.reads();
    for (let batch = 0; batch < 20; batch++) {
      store.appendLogLines(id, Array.from({ length: 7 }, (_, i) => ({ source: "build" as const, derivation: "/nix/store/x.drv", text: `live ${batch}.${i}` })));
      if (batch % 3 === 0) await tick(); // sometimes several commits land before the follower runs
    }
    await tick();
    expect(h.reads()).toBe(readsAfterBacklog); // the live lines came from the commits
    store.transitionSync(id, "building", "deploying");
    store.appendLogLines(id, [{ source: "deploy", text: "activating" }]);
    store.finishSync(id, { from: "deploying", state: "succeeded", outputPaths: ["/nix/store/aaa-m"] });
    await done;
    const all = pages.flatMap((p) => p.lines);
    expect(all).toEqual(store.logLines("acme", "m", id, { limit: 10_000 }).lines);
    expect(all.map((l) => l.line)).toEqual(Array.from({ length: 25 + 140 + 1 }, (_, i) => i));
    expect(pages.every((p) => p.lines.length <= 10)).toBe(true);
    expect(pages.at(-1)?.complete).toBe(true);
  });

  it("a derivation filter reads the store and returns only that derivation's lines", async () => {
    const store = freshStore(dir);
    const h = harness(store);
    const id = runningSync(store, 0);
    const abort = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const p of followLogLines(h.committed, { sync: id, sinceLine: 0, limit: 100, derivation: "/nix/store/a.drv", signal: abort.signal }, h.readPage(id, "/nix/store/a.drv"))) {
        seen.push(...p.lines.map((l) => l.text));
      }
    })();
    for (let i = 0; i < 6; i++) {
      store.appendLogLines(id, [{ source: "build", derivation: i % 2 ? "/nix/store/b.drv" : "/nix/store/a.drv", text: `l${i}` }]);
      await tick();
    }
    await tick();
    abort.abort();
    await done;
    expect(seen).toEqual(["l0", "l2", "l4"]);
  });

  it("a follower that falls far behind drops what it held and reads the store instead, losing nothing", async () => {
    const store = freshStore(dir);
    const h = harness(store);
    const id = runningSync(store, 0);
    const abort = new AbortController();
    const iterator = followLogLines(h.committed, { sync: id, sinceLine: 0, limit: 5_000, signal: abort.signal }, h.readPage(id))[Symbol.asyncIterator]();
    const first = iterator.next(); // starts following: nothing stored yet, so it waits
    await tick();
    store.appendLogLines(id, [{ source: "build", text: "first" }]);
    const lines = [...((await first).value as LogsResult).lines];
    // The follower is not reading now; 60,000 lines are committed meanwhile (more than it holds).
    for (let i = 0; i < 60; i++) store.appendLogLines(id, Array.from({ length: 1_000 }, (_, j) => ({ source: "build" as const, text: `bulk ${i * 1_000 + j}` })));
    const readsBefore = h.reads();
    while (lines.length < 60_001) lines.push(...((await iterator.next()).value as LogsResult).lines);
    expect(h.reads()).toBeGreaterThan(readsBefore);
    expect(lines.map((l) => l.line)).toEqual(Array.from({ length: 60_001 }, (_, i) => i));
    abort.abort();
    await iterator.return?.(undefined);
  });
});
