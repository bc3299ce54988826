/** The console's graph computations (pure browser modules, run here in Node). */
import { describe, expect, it } from "vitest";
import type { GraphResult } from "../../src/console/browser/api-types.js";
import { layoutInput } from "../../src/console/browser/graph-layout.js";
import { applyDerivationEvent, createGraphModel, criticalPath, statusCounts, statusFromRio, transitiveReduction } from "../../src/console/browser/graph-model.js";
import { parseRoute } from "../../src/console/browser/routes.js";
import { phaseSteps } from "../../src/console/browser/sync-phases.js";

const drv = (name: string) => `/nix/store/${"a".repeat(32)}-${name}.drv`;

/** app needs lib and cfg; lib needs base; cfg needs base; app also needs base directly (redundant). */
function sample(statuses: Record<string, string> = {}): GraphResult {
  const names = ["base", "lib", "cfg", "app"];
  return {
    nodes: names.map((n) => ({ drv: drv(n), pname: n, system: "x86_64-linux", status: statuses[n] ?? "queued", executor: null })),
    edges: [
      [drv("app"), drv("lib")],
      [drv("app"), drv("cfg")],
      [drv("app"), drv("base")],
      [drv("lib"), drv("base")],
      [drv("cfg"), drv("base")],
      [drv("cfg"), drv("base")],
      [drv("cfg"), drv("missing")],
    ],
    truncated: false,
  };
}

describe("graph model", () => {
  it("maps rio's statuses and orders dependencies first", () => {
    expect(["queued", "ready", "created", "running", "substituting", "completed", "failed", "poisoned", "dependency_failed", "cancelled"].map(statusFromRio)).toEqual([
      "queued", "queued", "queued", "running", "running", "built", "failed", "failed", "skipped", "skipped",
    ]);
    const m = createGraphModel(sample());
    const pos = (n: string) => m.order.indexOf(drv(n));
    expect(m.order).toHaveLength(4);
    expect(pos("base")).toBeLessThan(pos("lib"));
    expect(pos("lib")).toBeLessThan(pos("app"));
    expect(pos("cfg")).toBeLessThan(pos("app"));
    // Duplicate edges and edges to nodes outside the graph are dropped.
    expect(m.children.get(drv("cfg"))).toEqual([drv("base")]);
  });

  it("applies derivation events, never turning a finished node back to running", () => {
    const m = createGraphModel(sample());
    expect(applyDerivationEvent(m, { drv: drv("base"), kind: "started" }, 1000)?.status).toBe("running");
    expect(applyDerivationEvent(m, { drv: drv("base"), kind: "completed" }, 3000)?.status).toBe("built");
    expect(applyDerivationEvent(m, { drv: drv("base"), kind: "started" }, 3500)).toBeNull();
    expect(applyDerivationEvent(m, { drv: drv("lib"), kind: "cached" }, 3600)?.status).toBe("cached");
    expect(applyDerivationEvent(m, { drv: drv("cfg"), kind: "failed", error: "boom" }, 3700)).toMatchObject({ status: "failed", error: "boom" });
    expect(applyDerivationEvent(m, { drv: drv("nope"), kind: "completed" }, 1)).toBeNull();
    expect(applyDerivationEvent(m, { drv: drv("app"), kind: "queued" }, 1)).toBeNull();
    expect(statusCounts(m)).toMatchObject({ built: 1, cached: 1, failed: 1, queued: 1, running: 0 });
    expect(m.nodes.get(drv("base"))).toMatchObject({ startedAt: 1000, finishedAt: 3000 });
  });

  it("finds the longest remaining chain, weighing by count first and by observed times once known", () => {
    const m = createGraphModel(sample());
    const first = criticalPath(m, 0);
    expect(first.weighting).toBe("count");
    expect(first.remainingSecs).toBeNull();
    expect(first.path.map((d) => m.nodes.get(d)?.pname)).toHaveLength(3);
    expect(first.path[0]).toBe(drv("base"));
    expect(first.path[2]).toBe(drv("app"));
    // base built in 10 s: each pending node now weighs 10 s; lib has run 4 s of them.
    applyDerivationEvent(m, { drv: drv("base"), kind: "started" }, 0);
    applyDerivationEvent(m, { drv: drv("base"), kind: "completed" }, 10_000);
    applyDerivationEvent(m, { drv: drv("lib"), kind: "started" }, 10_000);
    const later = criticalPath(m, 14_000);
    expect(later.weighting).toBe("observed");
    // cfg (queued, 10 s) outweighs lib (6 s left): app ← cfg.
    expect(later.path).toEqual([drv("cfg"), drv("app")]);
    expect(later.remainingSecs).toBeCloseTo(20, 3);
    applyDerivationEvent(m, { drv: drv("cfg"), kind: "completed" }, 15_000);
    applyDerivationEvent(m, { drv: drv("lib"), kind: "completed" }, 15_000);
    applyDerivationEvent(m, { drv: drv("app"), kind: "completed" }, 16_000);
    expect(criticalPath(m, 16_000)).toMatchObject({ path: [], remainingSecs: 0 });
  });

  it("draws only the transitive reduction", () => {
    const m = createGraphModel(sample());
    const edges = transitiveReduction(m).map(([a, b]) => `${m.nodes.get(a)?.pname}→${m.nodes.get(b)?.pname}`).sort();
    expect(edges).toEqual(["base→cfg", "base→lib", "cfg→app", "lib→app"]);
  });

  it("lays out big graphs (over 200 nodes) on one edge per node, every node once", () => {
    const n = 400;
    const nodes = Array.from({ length: n }, (_, i) => ({ drv: drv(`p${i}`), pname: `p${i}`, system: "x", status: "queued", executor: null }));
    const edges: [string, string][] = [];
    for (let i = 1; i < n; i++) {
      edges.push([drv(`p${i}`), drv(`p${Math.floor(i / 2)}`)]);
      if (i > 3) edges.push([drv(`p${i}`), drv(`p${i - 3}`)]);
    }
    const m = createGraphModel({ nodes, edges, truncated: false });
    const big = layoutInput(m);
    expect(big.mode).toBe("backbone");
    expect(big.graph.children).toHaveLength(n);
    expect(new Set(big.graph.children?.map((c) => c.id)).size).toBe(n);
    // One routed edge per node that has a dependency; the rest are drawn over the layout.
    expect(big.graph.edges).toHaveLength(n - 1);
    expect(big.graph.edges!.length + big.extraEdges.length).toBe(transitiveReduction(m).length);
    const small = layoutInput(createGraphModel(sample()));
    expect(small.mode).toBe("full");
    expect(small.extraEdges).toEqual([]);
  });
});

describe("routes and timeline", () => {
  it("parses places and rejects anything else", () => {
    expect(parseRoute("")).toEqual({ page: "list" });
    expect(parseRoute("#main")).toEqual({ page: "list" });
    expect(parseRoute("#/d/acme/mastodon")).toEqual({ page: "deployment", tenant: "acme", deployment: "mastodon", sync: null });
    expect(parseRoute("#/d/acme/mastodon/01JABC")).toMatchObject({ sync: "01JABC" });
    expect(parseRoute("#/d/ACME/x")).toMatchObject({ page: "unknown" });
    expect(parseRoute("#/d/acme/..%2f..")).toMatchObject({ page: "unknown" });
    expect(parseRoute("#/new?tenant=beta&deployment=photos&type=pixelfed")).toEqual({ page: "new", tenant: "beta", deployment: "photos", type: "pixelfed" });
    expect(parseRoute("#/new?tenant=<script>")).toMatchObject({ page: "new", tenant: null });
  });

  it("builds the phase timeline from the sync's events", () => {
    const ev = (seq: number, type: string, at: string, data: Record<string, unknown> = {}) => ({ seq, tenant: "t", deployment: "d", sync: "s", type, at, data });
    const steps = phaseSteps(
      "apply",
      [
        ev(1, "sync.queued", "2026-01-01T00:00:00Z"),
        ev(2, "sync.state", "2026-01-01T00:00:02Z", { from: "queued", to: "evaluating" }),
        ev(3, "sync.state", "2026-01-01T00:00:05Z", { from: "evaluating", to: "building" }),
      ],
      Date.parse("2026-01-01T00:00:15Z"),
    );
    expect(steps.map((s) => [s.phase, s.state, s.secs])).toEqual([
      ["queued", "done", 2],
      ["evaluating", "done", 3],
      ["building", "current", 10],
      ["deploying", "pending", null],
    ]);
    const failed = phaseSteps("apply", [ev(1, "sync.queued", "2026-01-01T00:00:00Z"), ev(2, "sync.finished", "2026-01-01T00:00:01Z", { state: "cancelled" })], 0);
    expect(failed.map((s) => [s.phase, s.state])).toEqual([["queued", "done"], ["evaluating", "pending"], ["building", "pending"], ["deploying", "pending"], ["cancelled", "ended"]]);
  });
});
