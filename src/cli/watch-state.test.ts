import { describe, expect, it } from "vitest";
import type { DeploymentEvent, DeploymentView, EventType, SyncView } from "../core/index.js";
import {
  describeEvent,
  exitCodeOf,
  fitWidth,
  formatDuration,
  initialWatchState,
  isFinished,
  reduceEvent,
  reduceLogs,
  render,
  seedFromView,
} from "./watch-state.js";

const S = "01JSYNC0000000000000000001";
let seq = 10;
function ev(type: EventType, data: Record<string, unknown> = {}, sync: string | null = S, at = "2026-11-27T10:00:00Z"): DeploymentEvent {
  seq += 1;
  return { seq, tenant: "acme", deployment: "mastodon", sync, type, at, data };
}

const syncView: SyncView = {
  sync: S,
  deployment: "mastodon",
  tenant: "acme",
  kind: "apply",
  state: "building",
  mode: "replace",
  priority: "interactive",
  position: 0,
  submitted_at: "2026-11-27T09:59:00Z",
  started_at: "2026-11-27T10:00:00Z",
  finished_at: null,
  config_hash: "sha256:1",
  build: { build_id: "b1", total: 12, completed: 3, cached: 5, running: 2, failed: 0, queued: 2, critical_path_remaining_secs: 40 },
  error: null,
  superseded_by: null,
};

const view: DeploymentView = {
  deployment: "mastodon",
  tenant: "acme",
  deployment_type: "mastodon",
  state: "deploying",
  generation: 4,
  seq: 10,
  current: syncView,
  queue: [],
  last: null,
  created_at: "2026-11-01T00:00:00Z",
  updated_at: "2026-11-27T10:00:00Z",
};

describe("watch state", () => {
  it("seeds from the deployment view: the current sync, its counters, the replay point", () => {
    const s = seedFromView(initialWatchState("acme", "mastodon"), view, null);
    expect(s.sync).toBe(S);
    expect(s.syncState).toBe("building");
    expect(s.counters?.total).toBe(12);
    expect(s.lastSeq).toBe(10);
    expect(isFinished(s)).toBe(false);
  });

  it("tracks running derivations with their phase, then the deploy, then the result", () => {
    seq = 10;
    let s = seedFromView(initialWatchState("acme", "mastodon"), view, null);
    s = reduceEvent(s, ev("derivation", { drv: "/nix/store/a-ruby.drv", pname: "ruby", kind: "started" }));
    s = reduceEvent(s, ev("derivation", { drv: "/nix/store/b-assets.drv", pname: "assets", kind: "substituting" }));
    expect(s.running.map((r) => [r.pname, r.phase])).toEqual([
      ["ruby", "building"],
      ["assets", "substituting"],
    ]);
    s = reduceEvent(s, ev("derivation", { drv: "/nix/store/a-ruby.drv", pname: "ruby", kind: "completed" }));
    s = reduceEvent(s, ev("build.progress", { total: 12, completed: 6, cached: 5, running: 1, failed: 0, queued: 0, critical_path_remaining_secs: 5 }));
    expect(s.running.map((r) => r.pname)).toEqual(["assets"]);
    const screen = render(s, Date.parse("2026-11-27T10:00:30Z"));
    expect(screen[0]).toContain("acme/mastodon");
    expect(screen[1]).toContain("[11/12]");
    expect(screen[1]).toContain("ETA 5s");
    expect(screen[2]).toContain("assets  substituting  30s");

    s = reduceEvent(s, ev("sync.state", { from: "building", to: "deploying" }));
    s = reduceEvent(s, ev("deploy.started"));
    s = reduceLogs(s, { sync: S, lines: [{ line: 0, source: "deploy", derivation: null, text: "activating" }] });
    s = reduceLogs(s, { sync: "other", lines: [{ line: 0, source: "deploy", derivation: null, text: "not mine" }] });
    expect(render(s, 0).join("\n")).toContain("│ activating");
    expect(render(s, 0).join("\n")).not.toContain("not mine");
    s = reduceEvent(s, ev("deploy.finished"));
    s = reduceEvent(s, ev("sync.finished", { state: "succeeded", error: null }, S, "2026-11-27T10:01:20Z"));
    expect(isFinished(s)).toBe(true);
    expect(exitCodeOf(s)).toBe(0);
    expect(render(s, 0).at(-1)).toBe("  ✓ succeeded in 1m20s");
    expect(s.lastSeq).toBe(seq);
  });

  it("ignores other syncs' events but follows the deployment state", () => {
    let s = seedFromView(initialWatchState("acme", "mastodon"), view, null);
    s = reduceEvent(s, ev("sync.finished", { state: "failed" }, "01JOTHER"));
    expect(isFinished(s)).toBe(false);
    s = reduceEvent(s, ev("deployment.state", { from: "active", to: "deploying", generation: 5 }, null));
    expect(s.generation).toBe(5);
  });

  it("reports failure and supersession as non-zero exits", () => {
    let s = seedFromView(initialWatchState("acme", "mastodon"), view, null);
    s = reduceEvent(s, ev("derivation", { drv: "/nix/store/c-x.drv", pname: "x", kind: "failed", error: "exit 1" }));
    s = reduceEvent(s, ev("sync.finished", { state: "failed", error: { code: "build_failed", message: "x failed", derivation: null } }));
    expect(exitCodeOf(s)).toBe(1);
    expect(render(s, 0).join("\n")).toContain("✗ x  failed: exit 1");
    expect(render(s, 0).at(-1)).toContain("build_failed: x failed");
    let t = seedFromView(initialWatchState("acme", "mastodon"), view, null);
    t = reduceEvent(t, ev("sync.superseded", { by: "01JNEWER" }));
    expect(isFinished(t)).toBe(true);
    expect(exitCodeOf(t)).toBe(1);
  });

  it("watches nothing when the deployment has no sync, and adopts a named sync's queue event", () => {
    const idle = { ...view, state: "idle" as const, current: null, last: null };
    const s = seedFromView(initialWatchState("acme", "mastodon"), idle, null);
    expect(s.sync).toBeNull();
    expect(render(s, 0)[0]).toContain("no sync to watch");
    const adopted = reduceEvent(s, ev("sync.queued", { kind: "apply" }));
    expect(adopted.sync).toBe(S);
    expect(adopted.syncState).toBe("queued");
  });

  it("describes events as plain lines", () => {
    const s = seedFromView(initialWatchState("acme", "mastodon"), view, null);
    expect(describeEvent(s, ev("sync.state", { from: "building", to: "deploying" }))).toBe("mastodon: building → deploying");
    expect(describeEvent(s, ev("sync.state", { from: "a", to: "b" }, "01JOTHER"))).toBeNull();
    expect(formatDuration(3725)).toBe("1h02m");
    expect(fitWidth(["x".repeat(30), "short"], 20)).toEqual(["x".repeat(19) + "…", "short"]);
  });
});
