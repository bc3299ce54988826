/**
 * sync.get and deployment.history in the store: every terminal state stays visible (superseded,
 * cancelled, timed out, failed, torn down), newest first, filtered by state and kind, in cursor
 * pages that stay stable while syncs are inserted; tenants see only their own; the history query
 * is an index range scan (no table scan, no sort).
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import type { Store } from "../../src/store/index.js";
import { apply, freshStore, tempDir } from "./fixture.js";

const dir = tempDir();

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return AppError.is(err) ? err.code : `not an AppError: ${String(err)}`;
  }
  return "no error";
}

/** Leaves one sync in each terminal state in deployment `m`; returns their ids by name. */
function everyEnding(store: Store) {
  const superseded = store.submitSync(apply("m", { v: 1 })).sync.sync;
  const replacer = store.submitSync(apply("m", { v: 2 }));
  expect(replacer.superseded).toEqual([superseded]);
  const cancelled = replacer.sync.sync;
  expect(store.cancelSyncs({ tenant: "acme", deployment: "m" }).cancelled).toEqual([cancelled]);
  const timedOut = store.submitSync(apply("m", { v: 3 })).sync.sync;
  store.claimRunnable(5);
  store.transitionSync(timedOut, "evaluating", "building");
  store.finishSync(timedOut, { from: "building", state: "timed_out" });
  const succeeded = store.submitSync(apply("m", { v: 4 })).sync.sync;
  store.claimRunnable(5);
  store.transitionSync(succeeded, "evaluating", "deploying");
  store.finishSync(succeeded, { from: "deploying", state: "succeeded", outputPaths: ["/nix/store/aaa-m"] });
  const torndown = store.submitSync({ tenant: "acme", deployment: "m", kind: "teardown" }).sync.sync;
  store.claimRunnable(5);
  store.finishSync(torndown, { from: "destroying", state: "succeeded" });
  const queued = store.submitSync(apply("m", { v: 5 })).sync.sync;
  return { superseded, cancelled, timedOut, succeeded, torndown, queued };
}

describe("sync.get and deployment.history", () => {
  it("show superseded, cancelled, timed-out, succeeded and torn-down syncs, newest first", () => {
    const store = freshStore(dir);
    const ids = everyEnding(store);
    expect(store.getSyncById("acme", ids.superseded)).toMatchObject({ state: "superseded", superseded_by: ids.cancelled, position: null, deployment: "m" });
    expect(store.getSyncById("acme", ids.cancelled)).toMatchObject({ state: "cancelled", position: null });
    expect(store.getSyncById("acme", ids.timedOut)).toMatchObject({ state: "timed_out", error: { code: "timeout" } });
    expect(store.getSyncById("acme", ids.torndown)).toMatchObject({ state: "succeeded", kind: "teardown", config_hash: null });
    expect(store.getSyncById("acme", ids.queued)).toMatchObject({ state: "queued", position: 0 });

    const history = store.syncHistory({ tenant: "acme", deployment: "m" });
    expect(history.syncs.map((s) => [s.sync, s.state])).toEqual([
      [ids.queued, "queued"],
      [ids.torndown, "succeeded"],
      [ids.succeeded, "succeeded"],
      [ids.timedOut, "timed_out"],
      [ids.cancelled, "cancelled"],
      [ids.superseded, "superseded"],
    ]);
    expect(history.next_cursor).toBeNull();
    // Each entry is the same view sync.get gives.
    for (const s of history.syncs) expect(store.getSyncById("acme", s.sync)).toEqual(s);
    // deployment.get shows only current/queue/last: the superseded one is reachable only here.
    const dep = store.getDeployment("acme", "m");
    expect([dep.current?.sync, ...(dep.queue ?? []).map((q) => q.sync), dep.last?.sync]).not.toContain(ids.superseded);
  });

  it("filters by state and by kind", () => {
    const store = freshStore(dir);
    const ids = everyEnding(store);
    const pick = (f: { state?: "succeeded" | "superseded" | "queued"; kind?: "apply" | "teardown" }) =>
      store.syncHistory({ tenant: "acme", deployment: "m", ...f }).syncs.map((s) => s.sync);
    expect(pick({ state: "succeeded" })).toEqual([ids.torndown, ids.succeeded]);
    expect(pick({ state: "superseded" })).toEqual([ids.superseded]);
    expect(pick({ kind: "teardown" })).toEqual([ids.torndown]);
    expect(pick({ kind: "apply", state: "succeeded" })).toEqual([ids.succeeded]);
    expect(pick({ kind: "teardown", state: "queued" })).toEqual([]);
  });

  it("pages with a cursor that stays stable while new syncs are inserted", () => {
    const store = freshStore(dir);
    const all: string[] = [];
    for (let i = 0; i < 25; i++) all.push(store.submitSync(apply("p", { i }, { mode: "enqueue" })).sync.sync);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = store.syncHistory({ tenant: "acme", deployment: "p", limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.syncs.map((s) => s.sync));
      cursor = page.next_cursor ?? undefined;
      pages += 1;
      // Newer syncs arrive between pages; they belong before the first page and never shift these.
      store.submitSync(apply("p", { late: pages }, { mode: "enqueue" }));
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual([...all].reverse());
  });

  it("is not_found for an unknown id, another tenant's sync or deployment, and rejects bad cursors and limits", () => {
    const store = freshStore(dir);
    const mine = store.submitSync(apply("m")).sync.sync;
    store.submitSync({ ...apply("m"), tenant: "beta" });
    expect(codeOf(() => store.getSyncById("beta", mine))).toBe("not_found");
    expect(codeOf(() => store.getSyncById("acme", "01J00000000000000000000000"))).toBe("not_found");
    // Unknown and foreign answer the same text, so they cannot be told apart.
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as Error).message;
      }
      return "";
    };
    expect(msg(() => store.getSyncById("beta", mine))).toBe(`no sync ${mine}`);
    expect(codeOf(() => store.syncHistory({ tenant: "gamma", deployment: "m" }))).toBe("not_found");
    expect(store.syncHistory({ tenant: "beta", deployment: "m" }).syncs.map((s) => s.tenant)).toEqual(["beta"]);
    expect(codeOf(() => store.syncHistory({ tenant: "acme", deployment: "m", cursor: "garbage" }))).toBe("invalid_argument");
    expect(codeOf(() => store.syncHistory({ tenant: "acme", deployment: "m", limit: 0 }))).toBe("invalid_argument");
    expect(codeOf(() => store.syncHistory({ tenant: "acme", deployment: "m", limit: 501 }))).toBe("invalid_argument");
  });

  it("reads each page by an index range, without a table scan or a sort", () => {
    const store = freshStore(dir);
    store.submitSync(apply("m"));
    const db = new Database(store.path, { readonly: true });
    try {
      const plan = (where: string) =>
        (db.prepare(`EXPLAIN QUERY PLAN SELECT s.id FROM syncs s JOIN deployments d ON d.id = s.deployment_id WHERE ${where} ORDER BY s.n DESC LIMIT 51`).all(1, 1e15, "succeeded") as { detail: string }[])
          .map((r) => r.detail)
          .join("; ");
      for (const where of ["s.deployment_id = ? AND s.n < ? AND ? IS NOT NULL", "s.deployment_id = ? AND s.n < ? AND s.state = ?", "s.deployment_id = ? AND s.n < ? AND s.kind = ?"]) {
        const p = plan(where);
        expect(p, where).toMatch(/SEARCH s USING (COVERING )?INDEX syncs_history/);
        expect(p, where).not.toMatch(/TEMP B-TREE|SCAN s/);
      }
    } finally {
      db.close();
    }
  });
});
