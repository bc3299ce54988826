import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { apply, freshStore, tempDir, testClock } from "./fixture.js";

const dir = tempDir();

describe("submitSync", () => {
  it("creates the deployment and a queued sync with the docs/api.md view", () => {
    const clock = testClock();
    const store = freshStore(dir, { clock });
    const r = store.submitSync(apply("mastodon", { domain: "a.example", b: [1, 2] }));
    expect(r.created).toBe(true);
    expect(r.superseded).toEqual([]);
    expect(r.sync).toEqual({
      sync: r.sync.sync,
      deployment: "mastodon",
      tenant: "acme",
      kind: "apply",
      state: "queued",
      mode: "replace",
      priority: "interactive",
      position: 0,
      submitted_at: "2026-01-01T00:00:00.000Z",
      started_at: null,
      finished_at: null,
      config_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
      build: null,
      error: null,
      superseded_by: null,
    });
    expect(r.sync.sync).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.events.map((e) => [e.seq, e.type])).toEqual([[1, "sync.queued"]]);
    const dep = store.getDeployment("acme", "mastodon");
    expect(dep).toMatchObject({ deployment: "mastodon", tenant: "acme", deployment_type: "mastodon", state: "idle", generation: null, seq: 1, current: null, last: null });
    expect(dep.queue?.map((s) => s.sync)).toEqual([r.sync.sync]);
  });

  it("hashes configurations independently of key order", () => {
    const store = freshStore(dir);
    const a = store.submitSync(apply("a", { x: 1, y: { p: 1, q: 2 } }));
    const b = store.submitSync(apply("b", { y: { q: 2, p: 1 }, x: 1 }));
    expect(a.sync.config_hash).toBe(b.sync.config_hash);
  });

  it("replace supersedes queued syncs and an evaluating one; the deployment falls back", () => {
    const store = freshStore(dir);
    const first = store.submitSync(apply("m"));
    store.claimRunnable(10);
    expect(store.getDeployment("acme", "m").state).toBe("deploying");
    const second = store.submitSync(apply("m", { n: 2 }, { mode: "enqueue" }));
    const third = store.submitSync(apply("m", { n: 3 }));
    expect(third.superseded).toEqual([first.sync.sync, second.sync.sync]);
    expect(third.interrupted).toEqual([{ sync: first.sync.sync, from: "evaluating", buildId: null }]);
    expect(third.sync.position).toBe(0);
    const dep = store.getDeployment("acme", "m");
    expect(dep.state).toBe("idle");
    expect(dep.current).toBeNull();
    expect(dep.queue?.map((s) => s.sync)).toEqual([third.sync.sync]);
    const old = store.getSync("acme", "m", first.sync.sync);
    expect(old).toMatchObject({ state: "superseded", superseded_by: third.sync.sync, position: null });
    expect(old.finished_at).not.toBeNull();
    expect(third.events.map((e) => `${e.type}:${e.sync === third.sync.sync ? "new" : e.sync === first.sync.sync ? "first" : "second"}`)).toEqual([
      "sync.superseded:first",
      "sync.state:first",
      "sync.finished:first",
      "deployment.state:first",
      "sync.superseded:second",
      "sync.state:second",
      "sync.finished:second",
      "sync.queued:new",
    ]);
  });

  it("replace never interrupts a deploying sync: the new one waits right behind it", () => {
    const store = freshStore(dir);
    const first = store.submitSync(apply("m"));
    store.claimRunnable(10);
    store.transitionSync(first.sync.sync, "evaluating", "building");
    store.recordBuildSubmitted(first.sync.sync, "b-1");
    store.transitionSync(first.sync.sync, "building", "deploying");
    const queued = store.submitSync(apply("m", { n: 2 }));
    const newest = store.submitSync(apply("m", { n: 3 }));
    expect(queued.superseded).toEqual([]);
    expect(newest.superseded).toEqual([queued.sync.sync]);
    expect(newest.interrupted).toEqual([]);
    expect(newest.sync.position).toBe(1);
    const dep = store.getDeployment("acme", "m");
    expect(dep.current?.sync).toBe(first.sync.sync);
    expect(dep.current?.state).toBe("deploying");
    expect(dep.queue?.map((s) => [s.sync, s.position])).toEqual([[newest.sync.sync, 1]]);
  });

  it("enqueue keeps everything, in order, with positions", () => {
    const store = freshStore(dir);
    const ids = [1, 2, 3].map((n) => store.submitSync(apply("m", { n }, { mode: "enqueue" })));
    expect(ids.map((r) => r.sync.position)).toEqual([0, 1, 2]);
    expect(ids.every((r) => r.superseded.length === 0)).toBe(true);
    expect(store.getDeployment("acme", "m").queue?.map((s) => s.position)).toEqual([0, 1, 2]);
  });

  it("is idempotent by request_id per deployment", () => {
    const store = freshStore(dir);
    const a = store.submitSync(apply("m", { n: 1 }, { requestId: "req-1" }));
    const seq = store.getDeployment("acme", "m").seq;
    const b = store.submitSync(apply("m", { n: 2 }, { requestId: "req-1" }));
    expect(b.created).toBe(false);
    expect(b.sync).toEqual(a.sync);
    expect(b.superseded).toEqual([]);
    expect(b.events).toEqual([]);
    expect(store.getDeployment("acme", "m").seq).toBe(seq);
    // same request_id on another deployment is a different request
    expect(store.submitSync(apply("other", { n: 1 }, { requestId: "req-1" })).created).toBe(true);
  });

  it("refuses more than the limit of unfinished syncs with resource_exhausted, writing nothing", () => {
    const store = freshStore(dir, { limits: { maxNonTerminalSyncs: 3 } });
    for (let i = 0; i < 3; i++) store.submitSync(apply("m", { i }, { mode: "enqueue" }));
    const seq = store.getDeployment("acme", "m").seq;
    expect(() => store.submitSync(apply("m", { i: 9 }, { mode: "enqueue" }))).toThrow(expect.objectContaining({ code: "resource_exhausted" }) as Error);
    expect(store.getDeployment("acme", "m").seq).toBe(seq);
    // replace supersedes the queued ones, so it fits
    expect(store.submitSync(apply("m", { i: 10 })).superseded).toHaveLength(3);
  });

  it("rejects bad input with AppErrors", () => {
    const store = freshStore(dir, { limits: { maxConfigurationBytes: 100 } });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return AppError.is(err) ? err.code : "not an AppError";
      }
      return "no error";
    };
    expect(code(() => store.submitSync(apply("m", { big: "x".repeat(200) })))).toBe("resource_exhausted");
    expect(code(() => store.submitSync({ tenant: "acme", deployment: "m", kind: "apply" }))).toBe("invalid_argument");
    expect(code(() => store.submitSync({ tenant: "acme", deployment: "m", kind: "apply", configuration: {} }))).toBe("invalid_argument");
    expect(code(() => store.submitSync({ tenant: "acme", deployment: "never", kind: "teardown" }))).toBe("not_found");
    expect(code(() => store.submitSync(apply("m", {}, { requestId: "x".repeat(129) })))).toBe("invalid_argument");
    expect(code(() => store.getDeployment("acme", "never"))).toBe("not_found");
  });
});

describe("submitSyncs (one commit for many)", () => {
  it("applies items in order, isolating a refused one", () => {
    const store = freshStore(dir, { limits: { maxNonTerminalSyncs: 2 } });
    const published: number[] = [];
    store.onCommit((b) => published.push(b.events.length));
    const items = store.submitSyncs([
      apply("m", { n: 1 }, { mode: "enqueue" }),
      apply("m", { n: 2 }, { mode: "enqueue" }),
      apply("m", { n: 3 }, { mode: "enqueue" }), // over the limit
      { tenant: "acme", deployment: "m", kind: "apply" }, // no configuration
      apply("m", { n: 4 }), // replace supersedes both
    ]);
    expect(items.map((i) => (i.ok ? "ok" : i.error.code))).toEqual(["ok", "ok", "resource_exhausted", "invalid_argument", "ok"]);
    const last = items[4];
    expect(last?.ok && last.result.superseded).toHaveLength(2);
    const events = store.eventsSince("acme", "m", 0, 100).events;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(published).toEqual([events.length]);
  });
});

describe("replace through a whole run", () => {
  it("only the newest request reaches deploying; a superseded runner gets conflicts", () => {
    const store = freshStore(dir);
    const a = store.submitSync(apply("m", { n: 1 })).sync.sync;
    store.claimRunnable(1);
    store.transitionSync(a, "evaluating", "building");
    store.recordBuildSubmitted(a, "rio-a");
    const b = store.submitSync(apply("m", { n: 2 }));
    expect(b.interrupted).toEqual([{ sync: a, from: "building", buildId: "rio-a" }]);
    // the old runner's next writes are refused
    expect(() => store.recordSyncProgress(a, { rioSequence: 3 })).toThrow(expect.objectContaining({ code: "conflict" }) as Error);
    expect(() => store.transitionSync(a, "building", "deploying")).toThrow(expect.objectContaining({ code: "conflict" }) as Error);
    const c = store.submitSync(apply("m", { n: 3 }));
    const d = store.submitSync(apply("m", { n: 4 }));
    expect(c.superseded).toEqual([b.sync.sync]);
    expect(d.superseded).toEqual([c.sync.sync]);
    const claimed = store.claimRunnable(5).claimed;
    expect(claimed.map((s) => s.id)).toEqual([d.sync.sync]);
    expect(claimed[0]?.configuration).toEqual({ n: 4 });
    store.transitionSync(d.sync.sync, "evaluating", "deploying");
    const deployed = store
      .eventsSince("acme", "m", 0, 1000)
      .events.filter((e) => e.type === "sync.state" && e.data["to"] === "deploying")
      .map((e) => e.sync);
    expect(deployed).toEqual([d.sync.sync]);
    expect(store.getSync("acme", "m", b.sync.sync)).toMatchObject({ state: "superseded", superseded_by: c.sync.sync, position: null });
  });
});
