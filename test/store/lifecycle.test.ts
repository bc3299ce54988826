import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { pendingEvent } from "../../src/core/index.js";
import type { StoredEvent } from "../../src/core/index.js";
import { AppError } from "../../src/errors.js";
import { apply, freshStore, tempDir, testClock } from "./fixture.js";

const dir = tempDir();
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return AppError.is(err) ? err.code : `not an AppError: ${String(err)}`;
  }
  return "no error";
};

describe("sync lifecycle through the store", () => {
  it("apply → generation 1 active; failed apply falls back; rollback; teardown → idle", () => {
    const clock = testClock();
    const store = freshStore(dir, { clock });
    const s1 = store.submitSync(apply("m", { v: 1 })).sync.sync;
    const claim = store.claimRunnable(5);
    expect(claim.claimed.map((c) => [c.id, c.state, c.flow])).toEqual([[s1, "evaluating", "apply"]]);
    expect(claim.claimed[0]?.configuration).toEqual({ v: 1 });
    expect(claim.events.map((e) => e.type)).toEqual(["sync.state", "deployment.state"]);
    clock.advance(1);
    store.transitionSync(s1, "evaluating", "building");
    store.recordBuildSubmitted(s1, "build-1");
    store.recordSyncProgress(s1, {
      rioSequence: 7,
      counters: { total: 12, completed: 3, cached: 5, running: 2, failed: 0, queued: 2, critical_path_remaining_secs: 40 },
      events: [pendingEvent("build.progress", s1, { total: 12, completed: 3, cached: 5, running: 2, failed: 0, queued: 2, critical_path_remaining_secs: 40 })],
    });
    expect(store.getSync("acme", "m", s1).build).toEqual({
      build_id: "build-1", total: 12, completed: 3, cached: 5, running: 2, failed: 0, queued: 2, critical_path_remaining_secs: 40,
    });
    store.recordRioSequence(s1, 5); // never moves backwards
    expect(store.getSyncRecord(s1).rioSequence).toBe(7);
    store.transitionSync(s1, "building", "deploying", { events: [pendingEvent("deploy.started", s1, {})] });
    const done = store.finishSync(s1, { from: "deploying", state: "succeeded", outputPaths: ["/nix/store/aaa-m"], events: [pendingEvent("deploy.finished", s1, {})] });
    expect(done.generation).toBe(1);
    expect(done.events.map((e) => e.type)).toEqual(["deploy.finished", "sync.state", "sync.finished", "deployment.state"]);
    expect(done.events.at(-1)?.data).toEqual({ from: "deploying", to: "active", generation: 1 });
    let dep = store.getDeployment("acme", "m");
    expect(dep).toMatchObject({ state: "active", generation: 1, current: null, queue: [] });
    expect(dep.last?.sync).toBe(s1);
    expect(store.getGeneration("acme", "m", 1)).toMatchObject({ number: 1, configuration: { v: 1 }, outputPaths: ["/nix/store/aaa-m"], sync: s1 });

    // a failed apply leaves generation 1 live; `last` tells why
    const s2 = store.submitSync(apply("m", { v: 2 })).sync.sync;
    store.claimRunnable(5);
    store.transitionSync(s2, "evaluating", "building");
    const failed = store.finishSync(s2, { from: "building", state: "failed", error: { code: "build_failed", message: "boom", derivation: "/nix/store/x.drv" } });
    expect(failed.sync.error).toEqual({ code: "build_failed", message: "boom", derivation: "/nix/store/x.drv" });
    dep = store.getDeployment("acme", "m");
    expect(dep).toMatchObject({ state: "active", generation: 1 });
    expect(dep.last?.sync).toBe(s2);

    // a second success, then roll back to the one before it (generation 1), producing generation 3
    const s3 = store.submitSync(apply("m", { v: 3 })).sync.sync;
    store.claimRunnable(5);
    store.transitionSync(s3, "evaluating", "deploying");
    store.finishSync(s3, { from: "deploying", state: "succeeded", outputPaths: ["/nix/store/ccc-m"] });
    const rb = store.submitSync({ tenant: "acme", deployment: "m", kind: "apply", rollback: {} });
    expect(rb.sync.config_hash).toBe(store.getGeneration("acme", "m", 1).configHash);
    const rbClaim = store.claimRunnable(5).claimed[0];
    expect(rbClaim).toMatchObject({ state: "deploying", flow: "rollback", rollbackGeneration: 1, configuration: { v: 1 } });
    expect(store.finishSync(rb.sync.sync, { from: "deploying", state: "succeeded", outputPaths: ["/nix/store/aaa-m"] }).generation).toBe(3);
    expect(store.getDeployment("acme", "m").generation).toBe(3);

    // teardown: queued → destroying → succeeded, nothing live
    const td = store.submitSync({ tenant: "acme", deployment: "m", kind: "teardown" });
    expect(td.sync.config_hash).toBeNull();
    expect(store.claimRunnable(5).claimed[0]?.state).toBe("destroying");
    expect(store.getDeployment("acme", "m").state).toBe("destroying");
    const tdDone = store.finishSync(td.sync.sync, { from: "destroying", state: "succeeded" });
    expect(tdDone.events.at(-1)?.data).toEqual({ from: "destroying", to: "idle", generation: null });
    expect(store.getDeployment("acme", "m")).toMatchObject({ state: "idle", generation: null });
    expect(store.listGenerations("acme", "m").map((g) => g.number)).toEqual([3, 2, 1]);
  });

  it("claims at most one sync per deployment, interactive first, then oldest", () => {
    const store = freshStore(dir);
    const a1 = store.submitSync(apply("a", { n: 1 }, { mode: "enqueue", priority: "ci" })).sync.sync;
    store.submitSync(apply("a", { n: 2 }, { mode: "enqueue" }));
    const b1 = store.submitSync(apply("b", { n: 1 }, { mode: "enqueue" })).sync.sync;
    const c1 = store.submitSync(apply("c", { n: 1 }, { mode: "enqueue", priority: "scheduled" })).sync.sync;
    const first = store.claimRunnable(2).claimed.map((c) => c.id);
    expect(first).toEqual([b1, c1]);
    expect(store.claimRunnable(10).claimed.map((c) => c.id)).toEqual([a1]);
    expect(store.claimRunnable(10).claimed).toEqual([]);
    expect(store.queueCounts()).toEqual({ queued: 1, evaluating: 3, building: 0, deploying: 0, destroying: 0 });
    expect(store.nonTerminalSyncs({ inFlightOnly: true }).map((s) => s.id)).toEqual([a1, b1, c1]);
    expect(store.nonTerminalSyncs()).toHaveLength(4);
  });

  it("guarded transitions refuse illegal moves and stale `from`, writing nothing", () => {
    const store = freshStore(dir);
    const id = store.submitSync(apply("m")).sync.sync;
    const seq = () => store.getDeployment("acme", "m").seq;
    const before = seq();
    expect(codeOf(() => store.transitionSync(id, "queued", "building"))).toBe("conflict"); // illegal in the table
    expect(codeOf(() => store.transitionSync(id, "evaluating", "building"))).toBe("conflict"); // stale from
    expect(codeOf(() => store.finishSync(id, { from: "queued", state: "succeeded" }))).toBe("conflict");
    expect(codeOf(() => store.recordBuildSubmitted(id, "b"))).toBe("conflict");
    expect(codeOf(() => store.recordSyncProgress(id, { rioSequence: 1 }))).toBe("conflict");
    expect(codeOf(() => store.transitionSync(id, "queued", "succeeded"))).toBe("invalid_argument");
    expect(seq()).toBe(before);
    store.claimRunnable(1);
    store.transitionSync(id, "evaluating", "building");
    store.transitionSync(id, "building", "deploying");
    expect(codeOf(() => store.finishSync(id, { from: "deploying", state: "succeeded" }))).toBe("invalid_argument"); // no output paths
    store.finishSync(id, { from: "deploying", state: "failed", error: { code: "deploy_failed", message: "x", derivation: null } });
    // terminal syncs never change
    for (const to of ["deploying", "building"] as const) expect(codeOf(() => store.transitionSync(id, "failed", to))).toBe("conflict");
    expect(codeOf(() => store.finishSync(id, { from: "failed", state: "succeeded", outputPaths: [] }))).toBe("conflict");
    expect(codeOf(() => store.appendLogLines(id, [{ source: "build", text: "late" }]))).toBe("conflict");
    expect(store.getSync("acme", "m", id).state).toBe("failed");
  });

  it("cancel: cancels queued and building syncs, refuses deploying and terminal ones", () => {
    const store = freshStore(dir);
    const a = store.submitSync(apply("m", { n: 1 })).sync.sync;
    store.claimRunnable(1);
    store.transitionSync(a, "evaluating", "building");
    store.recordBuildSubmitted(a, "rio-a");
    const b = store.submitSync(apply("m", { n: 2 }, { mode: "enqueue" })).sync.sync;
    const r = store.cancelSyncs({ tenant: "acme", deployment: "m", reason: "user asked" });
    expect(r.cancelled).toEqual([a, b]);
    expect(r.refused).toEqual([]);
    expect(r.interrupted).toEqual([{ sync: a, from: "building", buildId: "rio-a" }]);
    expect(r.events.filter((e) => e.type === "sync.finished").map((e) => e.data)).toEqual([
      { state: "cancelled", error: null, reason: "user asked" },
      { state: "cancelled", error: null, reason: "user asked" },
    ]);
    expect(store.getDeployment("acme", "m").state).toBe("idle");

    const c = store.submitSync(apply("m", { n: 3 })).sync.sync;
    store.claimRunnable(1);
    store.transitionSync(c, "evaluating", "deploying");
    const d = store.submitSync(apply("m", { n: 4 })).sync.sync;
    const r2 = store.cancelSyncs({ tenant: "acme", deployment: "m" });
    expect(r2.cancelled).toEqual([d]);
    expect(r2.refused).toEqual([{ sync: c, reason: "deploying" }]);
    expect(store.cancelSyncs({ tenant: "acme", deployment: "m", sync: a }).refused).toEqual([{ sync: a, reason: "terminal" }]);
    expect(codeOf(() => store.cancelSyncs({ tenant: "acme", deployment: "m", sync: "nope" }))).toBe("not_found");
  });
});

describe("database-level guarantees", () => {
  it("the partial unique index refuses a second in-flight sync even through raw SQL", () => {
    const store = freshStore(dir);
    const a = store.submitSync(apply("m", { n: 1 })).sync.sync;
    const b = store.submitSync(apply("m", { n: 2 }, { mode: "enqueue" })).sync.sync;
    store.claimRunnable(5);
    const raw = new Database(store.path);
    try {
      expect(() => raw.prepare("UPDATE syncs SET state = 'building', finished_at = NULL WHERE id = ?").run(b)).toThrow(/UNIQUE/);
      expect(() =>
        raw
          .prepare(
            `INSERT INTO syncs (id, deployment_id, kind, mode, priority, state, deployment_type, configuration, submitted_at)
             SELECT 'X', deployment_id, 'apply', 'replace', 'interactive', 'deploying', 't', '{}', 'now' FROM syncs WHERE id = ?`,
          )
          .run(a),
      ).toThrow(/UNIQUE/);
      // unknown states are refused by CHECK constraints
      expect(() => raw.prepare("UPDATE syncs SET state = 'bogus' WHERE id = ?").run(b)).toThrow(/CHECK/);
    } finally {
      raw.close();
    }
    expect(store.getSync("acme", "m", b).state).toBe("queued");
  });

  it("an event exists iff its change committed (same transaction)", () => {
    const store = freshStore(dir);
    const id = store.submitSync(apply("m")).sync.sync;
    const raw = new Database(store.path);
    try {
      // make the event insert fail: the sync's state change must roll back with it
      raw.exec(`CREATE TRIGGER fail_events BEFORE INSERT ON events WHEN NEW.type = 'deployment.state'
                BEGIN SELECT RAISE(ABORT, 'injected event failure'); END`);
      const seq = store.getDeployment("acme", "m").seq;
      expect(() => store.claimRunnable(1)).toThrow(/injected/);
      expect(store.getSync("acme", "m", id).state).toBe("queued");
      expect(store.getDeployment("acme", "m")).toMatchObject({ seq, state: "idle" });
      expect(store.eventsSince("acme", "m", 0, 100).events).toHaveLength(seq);
      raw.exec("DROP TRIGGER fail_events");
      // make the change fail: no event may be stored
      raw.exec(`CREATE TRIGGER fail_syncs BEFORE UPDATE OF state ON syncs BEGIN SELECT RAISE(ABORT, 'injected update failure'); END`);
      expect(() => store.claimRunnable(1)).toThrow(/injected/);
      expect(store.getDeployment("acme", "m").seq).toBe(seq);
      raw.exec("DROP TRIGGER fail_syncs");
      expect(store.claimRunnable(1).events.map((e) => e.seq)).toEqual([seq + 1, seq + 2]);
    } finally {
      raw.close();
    }
  });

  it("commit listeners see exactly the stored events, after commit, and nothing for a failed write", () => {
    const store = freshStore(dir);
    const seen: StoredEvent[] = [];
    const stop = store.onCommit((b) => {
      // the events are already readable from the database when the listener runs
      const first = b.events[0];
      if (first) expect(store.eventsSince(first.tenant, first.deployment, first.seq - 1, 1).events[0]).toEqual(first);
      seen.push(...b.events);
    });
    const r = store.submitSync(apply("m"));
    expect(seen).toEqual(r.events);
    expect(() => store.transitionSync(r.sync.sync, "queued", "building")).toThrow();
    expect(seen).toHaveLength(r.events.length);
    stop();
    store.claimRunnable(1);
    expect(seen).toHaveLength(r.events.length);
  });

  it("event seq is gapless from 1 per deployment under many interleaved writes", () => {
    const store = freshStore(dir);
    const names = Array.from({ length: 20 }, (_, i) => `d${i}`);
    const all: StoredEvent[] = [];
    store.onCommit((b) => all.push(...b.events));
    for (let round = 0; round < 30; round++) {
      for (const name of names) {
        const mode = round % 3 === 0 ? "enqueue" : "replace";
        store.submitSync(apply(name, { round }, { mode }));
      }
      for (const c of store.claimRunnable(7).claimed) {
        store.transitionSync(c.id, "evaluating", "building");
        store.recordSyncProgress(c.id, { events: [pendingEvent("build.started", c.id, { total: 3, cached: 1 })] });
        if (round % 2 === 0) store.transitionSync(c.id, "building", "deploying");
      }
      if (round % 5 === 0) store.cancelSyncs({ tenant: "acme", deployment: names[round % names.length] ?? "d0" });
    }
    for (const name of names) {
      const page = store.eventsSince("acme", name, 0, 1000);
      expect(page.more).toBe(false);
      expect(page.events.map((e) => e.seq)).toEqual(page.events.map((_, i) => i + 1));
      expect(store.getDeployment("acme", name).seq).toBe(page.events.length);
      expect(all.filter((e) => e.deployment === name)).toEqual(page.events);
    }
  });

  it("eventsSince pages with next and more", () => {
    const store = freshStore(dir);
    for (let i = 0; i < 5; i++) store.submitSync(apply("m", { i }, { mode: "enqueue" }));
    const p1 = store.eventsSince("acme", "m", 0, 2);
    expect([p1.events.map((e) => e.seq), p1.next, p1.more]).toEqual([[1, 2], 2, true]);
    const p3 = store.eventsSince("acme", "m", 4, 2);
    expect([p3.events.map((e) => e.seq), p3.next, p3.more]).toEqual([[5], 5, false]);
    const p4 = store.eventsSince("acme", "m", 5, 2);
    expect([p4.events, p4.next, p4.more]).toEqual([[], 5, false]);
    expect(p1.events[0]).toMatchObject({ tenant: "acme", deployment: "m", type: "sync.queued", data: { kind: "apply", mode: "enqueue", position: 0 } });
    expect(codeOf(() => store.eventsSince("acme", "zzz", 0, 1))).toBe("not_found");
  });
});

describe("runner-supplied events", () => {
  it("refuses state events and events of another sync", () => {
    const store = freshStore(dir);
    const id = store.submitSync(apply("m")).sync.sync;
    store.claimRunnable(1);
    expect(codeOf(() => store.recordSyncProgress(id, { events: [pendingEvent("sync.state", id, { from: "queued", to: "failed" })] }))).toBe("invalid_argument");
    expect(codeOf(() => store.recordSyncProgress(id, { events: [pendingEvent("build.started", "other", { total: 1, cached: 0 })] }))).toBe("invalid_argument");
    expect(codeOf(() => store.transitionSync(id, "evaluating", "building", { events: [pendingEvent("deployment.state", id, { from: "idle", to: "active", generation: 1 })] }))).toBe(
      "invalid_argument",
    );
    expect(store.getSync("acme", "m", id).state).toBe("evaluating");
  });
});
