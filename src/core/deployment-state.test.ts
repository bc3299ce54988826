import { describe, expect, it } from "vitest";
import { deploymentStateFor, newDeploymentFacts } from "./deployment-state.js";
import { canTransitionSync, isInFlightSyncState, syncFlows, syncStates } from "./sync-state.js";
import { decideTransition } from "./transition.js";

describe("deployment state follows its syncs", () => {
  it.each([
    [null, null, "idle"],
    [null, 2, "active"],
    ["apply", null, "deploying"],
    ["apply", 2, "deploying"],
    ["teardown", 2, "destroying"],
  ] as const)("in flight %s, live %s → %s", (kind, live, state) => {
    expect(deploymentStateFor(kind, live)).toBe(state);
  });

  it("idle → deploying → active with generation 1 on the first apply", () => {
    const sync = { id: "s1", kind: "apply" as const, flow: "apply" as const };
    const claim = decideTransition({ ...sync, state: "queued" }, newDeploymentFacts, { to: "evaluating" });
    expect(claim.ok && claim.events.at(-1)).toEqual({ type: "deployment.state", sync: "s1", data: { from: "idle", to: "deploying", generation: null } });
    if (!claim.ok) return;
    const done = decideTransition({ ...sync, state: "deploying" }, claim.deployment, { to: "succeeded" });
    expect(done.ok && done.newGeneration).toBe(1);
    expect(done.ok && done.deployment).toEqual({ state: "active", liveGeneration: 1, latestGeneration: 1 });
    expect(done.ok && done.events.map((e) => e.type)).toEqual(["sync.state", "sync.finished", "deployment.state"]);
  });

  it("falls back to what is live after a failed apply", () => {
    const d = decideTransition(
      { id: "s2", kind: "apply", flow: "apply", state: "deploying" },
      { state: "deploying", liveGeneration: 3, latestGeneration: 3 },
      { to: "failed", error: { code: "deploy_failed", message: "x", derivation: null } },
    );
    expect(d.ok && d.deployment).toEqual({ state: "active", liveGeneration: 3, latestGeneration: 3 });
    const e = decideTransition(
      { id: "s3", kind: "apply", flow: "apply", state: "building" },
      { state: "deploying", liveGeneration: null, latestGeneration: 0 },
      { to: "failed", error: { code: "build_failed", message: "x", derivation: "/nix/store/a.drv" } },
    );
    expect(e.ok && e.deployment.state).toBe("idle");
  });

  it("a rollback produces a new generation; a teardown leaves nothing live", () => {
    const rb = decideTransition(
      { id: "r", kind: "apply", flow: "rollback", state: "deploying" },
      { state: "deploying", liveGeneration: 4, latestGeneration: 4 },
      { to: "succeeded" },
    );
    expect(rb.ok && rb.deployment).toEqual({ state: "active", liveGeneration: 5, latestGeneration: 5 });
    const td = decideTransition(
      { id: "t", kind: "teardown", flow: "teardown", state: "destroying" },
      { state: "destroying", liveGeneration: 5, latestGeneration: 5 },
      { to: "succeeded" },
    );
    expect(td.ok && td.deployment).toEqual({ state: "idle", liveGeneration: null, latestGeneration: 5 });
    expect(td.ok && td.newGeneration).toBe(null);
  });
});

describe("every legal transition keeps the deployment state consistent", () => {
  it("after = derived from the in-flight sync and what is live; an event iff it changed", () => {
    for (const flow of syncFlows) {
      const kind = flow === "teardown" ? "teardown" : "apply";
      for (const from of syncStates)
        for (const to of syncStates) {
          if (!canTransitionSync(flow, from, to)) continue;
          for (const live of [null, 2]) {
            const before = { state: deploymentStateFor(isInFlightSyncState(from) ? kind : null, live), liveGeneration: live, latestGeneration: live ?? 0 };
            const d = decideTransition(
              { id: "s", kind, flow, state: from },
              before,
              { to, ...(to === "failed" ? { error: { code: "internal" as const, message: "x", derivation: null } } : {}), ...(to === "superseded" ? { supersededBy: "n" } : {}) },
            );
            expect(d.ok).toBe(true);
            if (!d.ok) continue;
            const expectedLive = to === "succeeded" ? (kind === "apply" ? before.latestGeneration + 1 : null) : live;
            expect(d.deployment.liveGeneration).toBe(expectedLive);
            expect(d.deployment.state).toBe(deploymentStateFor(isInFlightSyncState(to) ? kind : null, expectedLive));
            expect(d.events.some((e) => e.type === "deployment.state")).toBe(d.deployment.state !== before.state);
          }
        }
    }
  });
});
