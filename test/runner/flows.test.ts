/**
 * The engine end to end over WAMP: the real service (store, local scheduler, Nix evaluation and
 * builds, local deployer, embedded router) on a temp data dir, driven like the panel drives it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectConsistentLog, readActivations, readMarker } from "../helpers/engine-checks.js";
import { freshSalt, startEngine, type EngineClient, type InProcessEngine } from "../helpers/engine-service.js";

let engine: InProcessEngine;
let api: EngineClient;
const used = new Set<string>();
let counter = 0;
/** A fresh deployment name per test, checked for a consistent event log after the test. */
const dep = (name: string) => {
  const d = `${name}_${++counter}`;
  used.add(d);
  return d;
};

beforeAll(async () => {
  engine = await startEngine();
  api = await engine.client();
});
afterAll(async () => {
  await engine?.stop();
});
afterEach(async () => {
  for (const d of used) await expectConsistentLog(api, d);
  used.clear();
});

const target = (d: string) => engine.targetDir("acme", d);

describe("apply", () => {
  it("runs two deployments concurrently, each to its own marker, with its secret", async () => {
    const [a, b] = [dep("conc_a"), dep("conc_b")];
    const sa = await api.submit(a, { salt: freshSalt(), label: "A", build_sleep_secs: 1.5 });
    const sb = await api.submit(b, { salt: freshSalt(), label: "B", build_sleep_secs: 1.5 });
    // Both are past queued while the other is still building: they progress independently.
    await api.waitForState(a, sa.sync.sync, ["building"]);
    await api.waitForState(b, sb.sync.sync, ["building"]);
    expect((await api.get(a)).current?.sync).toBe(sa.sync.sync);
    expect(await api.waitForState(a, sa.sync.sync, [])).toBe("succeeded");
    expect(await api.waitForState(b, sb.sync.sync, [])).toBe("succeeded");
    // Their building phases overlapped in time.
    const span = async (d: string) => {
      const events = await api.allEvents(d);
      const at = (pred: (e: (typeof events)[number]) => boolean) => Date.parse(events.find(pred)?.at ?? "");
      return { from: at((e) => e.type === "sync.state" && e.data.to === "building"), to: at((e) => e.type === "sync.state" && e.data.from === "building") };
    };
    const [pa, pb] = [await span(a), await span(b)];
    expect(pa.from).toBeLessThan(pb.to);
    expect(pb.from).toBeLessThan(pa.to);
    const [ma, mb] = [await readMarker(target(a)), await readMarker(target(b))];
    expect(ma).toMatchObject({ sync: sa.sync.sync, generation: 1, secret: "present", configuration: { label: "A" } });
    expect(mb).toMatchObject({ sync: sb.sync.sync, generation: 1, secret: "present", configuration: { label: "B" } });
    const view = await api.get(a);
    expect(view).toMatchObject({ state: "active", generation: 1, current: null, queue: [], last: { sync: sa.sync.sync, state: "succeeded" } });
    // A finished build's counters are settled: nothing running or queued, everything built or cached.
    const build = view.last?.build as { completed: number; cached: number; total: number } | null | undefined;
    expect(build).toMatchObject({ running: 0, queued: 0, failed: 0, critical_path_remaining_secs: 0 });
    expect((build?.completed ?? 0) + (build?.cached ?? 0)).toBe(build?.total);
    expect(build?.total).toBeGreaterThan(0);
    // The build log reached the sync (per sync, gapless line numbers).
    const logs = await api.client.call<{ lines: { line: number; source: string; text: string }[] }>("fediversity.build.logs", { tenant: "acme", deployment: a, sync: sa.sync.sync });
    expect(logs.lines.map((l) => l.line)).toEqual(logs.lines.map((_, i) => i));
    expect(logs.lines.some((l) => l.source === "build" && /engine-part 1: done/.test(l.text))).toBe(true);
    expect(logs.lines.some((l) => l.source === "deploy" && /engine activated/.test(l.text))).toBe(true);
    expect(logs.lines.some((l) => l.text.includes(engine.secret))).toBe(false);
  });

  it("runs enqueued syncs in submission order, one generation each", async () => {
    const d = dep("enqueue");
    const ids: string[] = [];
    for (const label of ["one", "two", "three"]) {
      const r = await api.submit(d, { salt: freshSalt(), label, build_sleep_secs: 0.3 }, { mode: "enqueue" });
      expect(r.superseded).toEqual([]);
      ids.push(r.sync.sync);
    }
    for (const id of ids) expect(await api.waitForState(d, id, [])).toBe("succeeded");
    const starts = (await readActivations(target(d))).filter((a) => a.what === "start");
    expect(starts.map((s) => s.sync)).toEqual(ids);
    expect(starts.map((s) => s.generation)).toEqual(["1", "2", "3"]);
    expect((await readMarker(target(d)))?.configuration.label).toBe("three");
  });

  it("returns the first sync again for a repeated request_id and supersedes nothing", async () => {
    const d = dep("idem");
    const first = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 1 }, { request_id: "req-1" });
    const again = await api.submit(d, { salt: freshSalt(), label: "other" }, { request_id: "req-1" });
    expect(again.sync.sync).toBe(first.sync.sync);
    expect(again.superseded).toEqual([]);
    expect(await api.waitForState(d, first.sync.sync, [])).toBe("succeeded");
    const later = await api.submit(d, { salt: freshSalt() }, { request_id: "req-1" });
    expect(later.sync.sync).toBe(first.sync.sync);
    const queued = (await api.allEvents(d)).filter((e) => e.type === "sync.queued");
    expect(queued).toHaveLength(1);
  });
});

describe("replace", () => {
  it("supersedes a queued sync", async () => {
    const d = dep("rep_queued");
    const s1 = await api.submit(d, { salt: freshSalt(), activate_sleep_secs: 1.5 });
    await api.waitForState(d, s1.sync.sync, ["deploying"]);
    const s2 = await api.submit(d, { salt: freshSalt(), label: "s2" });
    expect(s2.superseded).toEqual([]);
    expect(s2.sync).toMatchObject({ state: "queued", position: 1 });
    const s3 = await api.submit(d, { salt: freshSalt(), label: "s3" });
    expect(s3.superseded).toEqual([s2.sync.sync]);
    expect(await api.waitForState(d, s2.sync.sync, [])).toBe("superseded");
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("succeeded");
    expect(await api.waitForState(d, s3.sync.sync, [])).toBe("succeeded");
    const finished = (await api.allEvents(d)).find((e) => e.type === "sync.superseded" && e.sync === s2.sync.sync);
    expect(finished?.data.by).toBe(s3.sync.sync);
    expect((await readActivations(target(d))).filter((a) => a.what === "start").map((a) => a.sync)).toEqual([s1.sync.sync, s3.sync.sync]);
  });

  it("supersedes a sync that is evaluating", async () => {
    const d = dep("rep_eval");
    const s1 = await api.submit(d, { salt: freshSalt(), eval_sleep_secs: 3 });
    await api.waitForState(d, s1.sync.sync, ["evaluating"]);
    const s2 = await api.submit(d, { salt: freshSalt(), label: "s2" });
    expect(s2.superseded).toEqual([s1.sync.sync]);
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("superseded");
    expect(await api.waitForState(d, s2.sync.sync, [])).toBe("succeeded");
    const events = await api.allEvents(d);
    expect(events.some((e) => e.sync === s1.sync.sync && e.type === "build.submitted")).toBe(false);
    expect((await readMarker(target(d)))?.sync).toBe(s2.sync.sync);
  });

  it("supersedes a sync that is building and cancels its rio build", async () => {
    const d = dep("rep_build");
    const s1 = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 20 });
    const submitted = await api.waitForEvent(d, (e) => e.sync === s1.sync.sync && e.type === "derivation" && e.data.kind === "started");
    const t0 = Date.now();
    const s2 = await api.submit(d, { salt: freshSalt(), label: "s2" });
    expect(s2.superseded).toEqual([s1.sync.sync]);
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("superseded");
    expect(await api.waitForState(d, s2.sync.sync, [])).toBe("succeeded");
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(submitted).toBeDefined();
    // Its rio build was cancelled, not left running for its 20 s (only this file uses this service).
    const operator = await engine.client("acme", "operator");
    const status = await operator.client.call<{ scheduler: { active_builds: number } }>("fediversity.queue.status", {});
    expect(status.scheduler.active_builds).toBe(0);
    // The superseded sync never deployed.
    expect((await readActivations(target(d))).map((a) => a.sync)).not.toContain(s1.sync.sync);
  });

  it("never interrupts a sync that is deploying: the new one runs right after", async () => {
    const d = dep("rep_deploy");
    const s1 = await api.submit(d, { salt: freshSalt(), label: "s1", activate_sleep_secs: 2 });
    await api.waitForState(d, s1.sync.sync, ["deploying"]);
    const s2 = await api.submit(d, { salt: freshSalt(), label: "s2" });
    expect(s2.superseded).toEqual([]);
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("succeeded");
    expect(await api.waitForState(d, s2.sync.sync, [])).toBe("succeeded");
    const acts = await readActivations(target(d));
    expect(acts.map((a) => `${a.what} ${a.sync}`)).toEqual([`start ${s1.sync.sync}`, `end ${s1.sync.sync}`, `start ${s2.sync.sync}`, `end ${s2.sync.sync}`]);
    expect((await readMarker(target(d)))?.configuration.label).toBe("s2");
  });
});

describe("cancel", () => {
  it("cancels a queued sync and leaves the running one alone", async () => {
    const d = dep("can_queued");
    const s1 = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 1 });
    const s2 = await api.submit(d, { salt: freshSalt() }, { mode: "enqueue" });
    const r = await api.cancel(d, s2.sync.sync);
    expect(r).toEqual({ cancelled: [s2.sync.sync], refused: [] });
    expect(await api.waitForState(d, s2.sync.sync, [])).toBe("cancelled");
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("succeeded");
  });

  it("cancels a sync while it evaluates", async () => {
    const d = dep("can_eval");
    const s1 = await api.submit(d, { salt: freshSalt(), eval_sleep_secs: 3 });
    await api.waitForState(d, s1.sync.sync, ["evaluating"]);
    expect(await api.cancel(d)).toEqual({ cancelled: [s1.sync.sync], refused: [] });
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("cancelled");
    expect(await api.get(d)).toMatchObject({ state: "idle", current: null, generation: null });
  });

  it("cancels a sync while it builds", async () => {
    const d = dep("can_build");
    const s1 = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 20 });
    await api.waitForEvent(d, (e) => e.sync === s1.sync.sync && e.type === "build.submitted");
    expect(await api.cancel(d, s1.sync.sync)).toEqual({ cancelled: [s1.sync.sync], refused: [] });
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("cancelled");
    // Nothing of it is deployed, and the deployment can move on at once.
    const s2 = await api.submit(d, { salt: freshSalt() });
    expect(await api.waitForState(d, s2.sync.sync, [], 20_000)).toBe("succeeded");
    expect((await readActivations(target(d))).map((a) => a.sync)).toEqual([s2.sync.sync, s2.sync.sync]);
  });

  it("refuses to cancel a sync that is deploying", async () => {
    const d = dep("can_deploy");
    const s1 = await api.submit(d, { salt: freshSalt(), activate_sleep_secs: 1.5 });
    await api.waitForState(d, s1.sync.sync, ["deploying"]);
    expect(await api.cancel(d)).toEqual({ cancelled: [], refused: [{ sync: s1.sync.sync, reason: "deploying" }] });
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("succeeded");
  });
});

describe("teardown and rollback", () => {
  it("tears a deployment down: deactivate runs, the marker is gone, the deployment is idle", async () => {
    const d = dep("teardown");
    const s1 = await api.submit(d, { salt: freshSalt() });
    expect(await api.waitForState(d, s1.sync.sync, [])).toBe("succeeded");
    expect(await readMarker(target(d))).not.toBeNull();
    const t = await api.remove(d);
    expect(t.sync.kind).toBe("teardown");
    expect(await api.waitForState(d, t.sync.sync, [])).toBe("succeeded");
    expect(await readMarker(target(d))).toBeNull();
    expect(await api.get(d)).toMatchObject({ state: "idle", generation: null, last: { sync: t.sync.sync, kind: "teardown" } });
    const states = (await api.allEvents(d)).filter((e) => e.sync === t.sync.sync && e.type === "sync.state").map((e) => e.data.to);
    expect(states).toEqual(["destroying", "succeeded"]);
    // The deactivation ran (test/fixtures/engine/deactivate.sh logs it).
    expect((await readActivations(target(d))).some((a) => a.what === "deactivate")).toBe(true);
  });

  it("rolls back to the previous generation: the marker shows the old configuration", async () => {
    const d = dep("rollback");
    const g1 = await api.submit(d, { salt: freshSalt(), label: "first" });
    expect(await api.waitForState(d, g1.sync.sync, [])).toBe("succeeded");
    const firstMarker = await readMarker(target(d));
    const readMarkerOf = async (sync: string) => (firstMarker?.sync === sync ? firstMarker : null);
    const g2 = await api.submit(d, { salt: freshSalt(), label: "second" });
    expect(await api.waitForState(d, g2.sync.sync, [])).toBe("succeeded");
    expect((await readMarker(target(d)))?.configuration.label).toBe("second");
    const rb = await api.rollback(d);
    expect(await api.waitForState(d, rb.sync.sync, [])).toBe("succeeded");
    const marker = await readMarker(target(d));
    expect(marker?.configuration.label).toBe("first");
    const states = (await api.allEvents(d)).filter((e) => e.sync === rb.sync.sync && e.type === "sync.state").map((e) => e.data.to);
    expect(states).toEqual(["deploying", "succeeded"]);
    // A successful apply (rollback included) makes a new generation (docs/api.md): 3, with generation 1's
    // configuration and outputs.
    const view = await api.get(d);
    expect(view).toMatchObject({ state: "active", generation: 3, last: { sync: rb.sync.sync, config_hash: g1.sync.config_hash } });
    expect(marker?.out).toBe((await readMarkerOf(g1.sync.sync))?.out);
  });
});

describe("failures", () => {
  it("ends with eval_failed when the configuration does not evaluate", async () => {
    const d = dep("fail_eval");
    const s = await api.submit(d, { salt: freshSalt(), fail_eval: true });
    expect(await api.waitForState(d, s.sync.sync, [])).toBe("failed");
    const view = await api.get(d);
    expect(view.last?.error).toMatchObject({ code: "eval_failed", derivation: null });
    expect(view.last?.error?.message).toMatch(/fail_eval was requested/);
    expect(view.state).toBe("idle");
  });

  it("ends with build_failed naming the failing derivation from its FAILED event", async () => {
    const d = dep("fail_build");
    const s = await api.submit(d, { salt: freshSalt(), fail_build: true });
    expect(await api.waitForState(d, s.sync.sync, [])).toBe("failed");
    const failedDrv = (await api.allEvents(d)).find((e) => e.type === "derivation" && e.data.kind === "failed");
    expect(failedDrv?.data.drv).toMatch(/-engine-part-1\.drv$/);
    const view = await api.get(d);
    expect(view.last?.error).toMatchObject({ code: "build_failed", derivation: failedDrv?.data.drv });
    expect(view.state).toBe("idle");
  });

  it("ends with deploy_failed when activation fails, and falls back to what is live", async () => {
    const d = dep("fail_deploy");
    const ok = await api.submit(d, { salt: freshSalt(), label: "good" });
    expect(await api.waitForState(d, ok.sync.sync, [])).toBe("succeeded");
    const bad = await api.submit(d, { salt: freshSalt(), label: "bad", fail_activate: true });
    expect(await api.waitForState(d, bad.sync.sync, [])).toBe("failed");
    const view = await api.get(d);
    expect(view.last?.error?.code).toBe("deploy_failed");
    expect(view).toMatchObject({ state: "active", generation: 1 });
    // The deployer rolled back to generation 1: its marker is live again.
    expect((await readMarker(target(d)))?.configuration.label).toBe("good");
  });
});
