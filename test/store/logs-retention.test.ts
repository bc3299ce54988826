import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadMigrations, migrate, openStore } from "../../src/store/index.js";
import type { LogBatch } from "../../src/store/index.js";
import { apply, freshStore, tempDir, testClock } from "./fixture.js";

const dir = tempDir();

describe("log lines", () => {
  it("numbers lines per sync from 0 without gaps across build and deploy output", () => {
    const store = freshStore(dir);
    const id = store.submitSync(apply("m")).sync.sync;
    const published: LogBatch[] = [];
    store.onCommit((b) => published.push(...b.logs));
    const a = store.appendLogLines(id, [
      { source: "build", derivation: "/nix/store/a.drv", text: "a0" },
      { source: "build", derivation: "/nix/store/b.drv", text: "b0" },
    ]);
    const b = store.appendLogLines(id, [
      { source: "build", derivation: "/nix/store/a.drv", text: "a1" },
      { source: "deploy", text: "activating" },
    ]);
    expect(a.lines.map((l) => l.line)).toEqual([0, 1]);
    expect(b.lines.map((l) => l.line)).toEqual([2, 3]);
    expect(b.nextLine).toBe(4);
    expect(published.flatMap((p) => p.lines)).toEqual([...a.lines, ...b.lines]);
    expect(published[0]).toMatchObject({ tenant: "acme", deployment: "m", sync: id });

    const all = store.logLines("acme", "m", id);
    expect(all.lines).toEqual([
      { line: 0, source: "build", derivation: "/nix/store/a.drv", text: "a0" },
      { line: 1, source: "build", derivation: "/nix/store/b.drv", text: "b0" },
      { line: 2, source: "build", derivation: "/nix/store/a.drv", text: "a1" },
      { line: 3, source: "deploy", derivation: null, text: "activating" },
    ]);
    expect([all.next_line, all.complete]).toEqual([4, false]);
    const page = store.logLines("acme", "m", id, { sinceLine: 1, limit: 2 });
    expect([page.lines.map((l) => l.line), page.next_line]).toEqual([[1, 2], 3]);
    const onlyA = store.logLines("acme", "m", id, { derivation: "/nix/store/a.drv" });
    expect(onlyA.lines.map((l) => l.text)).toEqual(["a0", "a1"]);
    expect(onlyA.next_line).toBe(4);

    store.cancelSyncs({ tenant: "acme", deployment: "m" });
    expect(store.logLines("acme", "m", id, { sinceLine: 4 })).toMatchObject({ lines: [], next_line: 4, complete: true });
    expect(store.logLines("acme", "m", id, { sinceLine: 0, limit: 2 }).complete).toBe(false);
    expect(() => store.logLines("other", "m", id)).toThrow(/no sync/);
    expect(() => store.logLines("acme", "x", id)).toThrow(/no sync/);
  });

  it("keeps at least the last N lines per sync, trimming the oldest in amortised batches", () => {
    const store = freshStore(dir, { limits: { logLinesKeptPerSync: 500 } });
    const id = store.submitSync(apply("m")).sync.sync;
    for (let i = 0; i < 30; i++) {
      store.appendLogLines(id, Array.from({ length: 100 }, (_, j) => ({ source: "build" as const, text: `line ${i * 100 + j}` })));
      const page = store.logLines("acme", "m", id, { limit: 10_000 });
      const stored = page.lines.length;
      expect(stored).toBeGreaterThanOrEqual(Math.min(500, (i + 1) * 100));
      expect(stored).toBeLessThanOrEqual(500 + 1000);
      expect(page.lines.at(-1)?.line).toBe((i + 1) * 100 - 1);
      expect(page.first_line).toBe(page.lines[0]?.line);
    }
    // reading from a trimmed line starts at the oldest kept one
    const p = store.logLines("acme", "m", id, { sinceLine: 0, limit: 1 });
    expect(p.lines[0]?.line).toBe(p.first_line);
    expect(p.first_line).toBeGreaterThan(0);
  });
});

describe("retention sweep", () => {
  it("deletes nothing unless asked, then only what is older than configured", () => {
    const clock = testClock();
    const store = freshStore(dir, { clock });
    const old = store.submitSync(apply("m", { n: 1 })).sync.sync;
    store.appendLogLines(old, [{ source: "build", text: "x" }]);
    store.cancelSyncs({ tenant: "acme", deployment: "m" }); // old is now `last`
    const older = store.submitSync(apply("m", { n: 2 })).sync.sync;
    store.appendLogLines(older, [{ source: "build", text: "y" }]);
    store.cancelSyncs({ tenant: "acme", deployment: "m" }); // older is now `last`
    expect(store.sweepRetention()).toEqual({ syncs: 0, events: 0, logLines: 0, deliveries: 0 });

    clock.advance(3600);
    const fresh = store.submitSync(apply("m", { n: 3 })).sync.sync; // stays queued (not terminal)
    const seqBefore = store.getDeployment("acme", "m").seq;
    expect(store.sweepRetention({ syncsSecs: null, eventsSecs: null, logsSecs: 1800 })).toEqual({ syncs: 0, events: 0, logLines: 2, deliveries: 0 });
    expect(store.logLines("acme", "m", old)).toMatchObject({ lines: [], complete: true });

    const r = store.sweepRetention({ syncsSecs: 1800, eventsSecs: 1800, logsSecs: null });
    expect(r.syncs).toBe(1); // `old`; `older` is kept as the deployment's last
    expect(() => store.getSync("acme", "m", old)).toThrow(/no sync/);
    expect(store.getDeployment("acme", "m").last?.sync).toBe(older);
    expect(store.getSync("acme", "m", fresh).state).toBe("queued");
    const events = store.eventsSince("acme", "m", 0, 1000).events;
    expect(r.events).toBe(seqBefore - events.length);
    expect(events.every((e) => e.at >= "2026-01-01T00:30:00.000Z")).toBe(true);
    // seq keeps counting after a sweep
    expect(store.submitSync(apply("m", { n: 4 })).events.at(-1)?.seq).toBeGreaterThan(seqBefore);
  });
});

describe("migrations", () => {
  it("reopening the same file is idempotent and keeps the data", () => {
    const path = join(dir, "reopen.db");
    const a = openStore({ path });
    const id = a.submitSync(apply("m")).sync.sync;
    const version = a.schemaVersion;
    a.close();
    const b = openStore({ path });
    expect(b.schemaVersion).toBe(version);
    expect(b.getSync("acme", "m", id).state).toBe("queued");
    b.close();
    const raw = new Database(path);
    const rows = raw.prepare("SELECT version, name FROM schema_version ORDER BY version").all() as { version: number; name: string }[];
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
  });

  it("refuses a database newer than the code, and a renamed migration", () => {
    const path = join(dir, "newer.db");
    const raw = new Database(path);
    const migrations = loadMigrations();
    migrate(raw, migrations);
    raw.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 'x')").run(migrations.length + 1);
    expect(() => migrate(raw, migrations)).toThrow(/newer/);
    raw.prepare("DELETE FROM schema_version WHERE version = ?").run(migrations.length + 1);
    const renamed = migrations.map((m, i) => (i === 0 ? { ...m, name: "renamed" } : m));
    expect(() => migrate(raw, renamed)).toThrow(/renamed/);
    raw.close();
  });
});

describe("listDeployments", () => {
  it("paginates by cursor per tenant, filters by state, omits queue", () => {
    const store = freshStore(dir);
    for (const t of ["acme", "beta"]) for (const d of ["a", "b", "c"]) store.submitSync({ ...apply(d), tenant: t });
    store.claimRunnable(1); // acme/a → deploying
    const p1 = store.listDeployments({ tenant: "acme", limit: 2 });
    expect(p1.deployments.map((d) => d.deployment)).toEqual(["a", "b"]);
    expect(p1.deployments[0]).not.toHaveProperty("queue");
    expect(p1.deployments[0]?.current?.state).toBe("evaluating");
    expect(p1.next_cursor).not.toBeNull();
    const p2 = store.listDeployments({ tenant: "acme", limit: 2, cursor: p1.next_cursor ?? "" });
    expect([p2.deployments.map((d) => d.deployment), p2.next_cursor]).toEqual([["c"], null]);
    expect(store.listDeployments({ state: "deploying" }).deployments.map((d) => `${d.tenant}/${d.deployment}`)).toEqual(["acme/a"]);
    expect(store.listDeployments().deployments).toHaveLength(6);
    expect(() => store.listDeployments({ cursor: "garbage" })).toThrow(/cursor/);
    expect(() => store.listDeployments({ limit: 501 })).toThrow(/limit/);
  });
});

describe("two connections on one file", () => {
  it("keep seq gapless when writing alternately", () => {
    const path = join(dir, "two.db");
    const a = openStore({ path });
    const b = openStore({ path });
    try {
      for (let i = 0; i < 50; i++) {
        (i % 2 === 0 ? a : b).submitSync(apply("m", { i }, { mode: "enqueue", requestId: `r${i}` }));
        if (i % 7 === 0) (i % 2 === 0 ? b : a).cancelSyncs({ tenant: "acme", deployment: "m" });
      }
      const seqs = a.eventsSince("acme", "m", 0, 1000).events.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      a.close();
      b.close();
    }
  });
});
