import { describe, expect, it } from "vitest";
import { newDeploymentFacts } from "./deployment-state.js";
import type { DeploymentFacts } from "./deployment-state.js";
import {
  canTransitionSync,
  firstRunningState,
  isInFlightSyncState,
  isInterruptibleSyncState,
  isNonTerminalSyncState,
  isTerminalSyncState,
  syncFlowOf,
  syncFlows,
  syncStates,
  syncTransitions,
} from "./sync-state.js";
import type { SyncFlow, SyncKind, SyncState } from "./sync-state.js";
import { decideTransition } from "./transition.js";
import type { TransitionRequest } from "./transition.js";

const kindOf = (flow: SyncFlow): SyncKind => (flow === "teardown" ? "teardown" : "apply");

/** The expected table, written out independently of the implementation. */
const expected: Record<SyncFlow, [SyncState, SyncState][]> = {
  apply: [
    ["queued", "evaluating"], ["queued", "cancelled"], ["queued", "superseded"], ["queued", "failed"], ["queued", "timed_out"],
    ["evaluating", "building"], ["evaluating", "deploying"], ["evaluating", "cancelled"], ["evaluating", "superseded"],
    ["evaluating", "failed"], ["evaluating", "timed_out"],
    ["building", "deploying"], ["building", "cancelled"], ["building", "superseded"], ["building", "failed"], ["building", "timed_out"],
    ["deploying", "succeeded"], ["deploying", "failed"], ["deploying", "timed_out"],
  ],
  rollback: [
    ["queued", "deploying"], ["queued", "cancelled"], ["queued", "superseded"], ["queued", "failed"], ["queued", "timed_out"],
    ["deploying", "succeeded"], ["deploying", "failed"], ["deploying", "timed_out"],
  ],
  teardown: [
    ["queued", "destroying"], ["queued", "cancelled"], ["queued", "superseded"], ["queued", "failed"], ["queued", "timed_out"],
    ["destroying", "succeeded"], ["destroying", "failed"], ["destroying", "timed_out"],
  ],
};

const allPairs = syncStates.flatMap((from) => syncStates.map((to) => [from, to] as [SyncState, SyncState]));
const isExpected = (flow: SyncFlow, from: SyncState, to: SyncState) => expected[flow].some(([f, t]) => f === from && t === to);

function requestFor(to: SyncState): TransitionRequest {
  if (to === "failed") return { to, error: { code: "internal", message: "boom", derivation: null } };
  if (to === "superseded") return { to, supersededBy: "newer" };
  return { to };
}

/** A deployment state consistent with a sync of `flow` being in `from`. */
function deploymentFor(flow: SyncFlow, from: SyncState): DeploymentFacts {
  const live = flow === "apply" ? null : 1;
  const latest = flow === "apply" ? 0 : 1;
  const state = isInFlightSyncState(from) ? (flow === "teardown" ? "destroying" : "deploying") : live === null ? "idle" : "active";
  return { state, liveGeneration: live, latestGeneration: latest };
}

describe("sync transition table", () => {
  it("matches the expected table exactly", () => {
    for (const flow of syncFlows) {
      const actual = Object.entries(syncTransitions[flow]).flatMap(([from, tos]) => (tos ?? []).map((to) => `${from}>${to}`));
      expect(actual.sort()).toEqual(expected[flow].map(([f, t]) => `${f}>${t}`).sort());
    }
  });

  for (const flow of syncFlows) {
    const legal = allPairs.filter(([f, t]) => isExpected(flow, f, t));
    const illegal = allPairs.filter(([f, t]) => !isExpected(flow, f, t));

    it.each(legal)(`${flow}: %s → %s is legal`, (from, to) => {
      expect(canTransitionSync(flow, from, to)).toBe(true);
      const d = decideTransition({ id: "s1", kind: kindOf(flow), flow, state: from }, deploymentFor(flow, from), requestFor(to));
      expect(d.ok).toBe(true);
      if (!d.ok) return;
      expect(d.events[0]?.type === "sync.state" || d.events[0]?.type === "sync.superseded").toBe(true);
      expect(d.events.find((e) => e.type === "sync.state")?.data).toEqual({ from, to });
      expect(d.events.some((e) => e.type === "sync.finished")).toBe(isTerminalSyncState(to));
    });

    it.each(illegal)(`${flow}: %s → %s is illegal`, (from, to) => {
      expect(canTransitionSync(flow, from, to)).toBe(false);
      const d = decideTransition({ id: "s1", kind: kindOf(flow), flow, state: from }, deploymentFor(flow, from), requestFor(to));
      expect(d.ok).toBe(false);
    });
  }

  it("has the illegal pairs as the exact complement (no pair unclassified)", () => {
    for (const flow of syncFlows) {
      const n = allPairs.filter(([f, t]) => canTransitionSync(flow, f, t)).length;
      expect(n).toBe(expected[flow].length);
      expect(allPairs.length).toBe(syncStates.length ** 2);
    }
  });

  it("never moves a terminal sync", () => {
    for (const flow of syncFlows)
      for (const from of syncStates.filter(isTerminalSyncState))
        for (const to of syncStates) expect(canTransitionSync(flow, from, to)).toBe(false);
  });

  it("never interrupts a deploy or teardown", () => {
    for (const flow of syncFlows)
      for (const from of ["deploying", "destroying"] as const)
        for (const to of ["cancelled", "superseded"] as const) expect(canTransitionSync(flow, from, to)).toBe(false);
  });
});

describe("state predicates", () => {
  it("classifies every state once", () => {
    for (const s of syncStates) {
      expect(isTerminalSyncState(s)).toBe(!isNonTerminalSyncState(s));
      if (isInFlightSyncState(s)) expect(isNonTerminalSyncState(s)).toBe(true);
    }
    expect(syncStates.filter(isInterruptibleSyncState)).toEqual(["queued", "evaluating", "building"]);
  });

  it("derives flows and their first running state", () => {
    expect(syncFlowOf("apply", null)).toBe("apply");
    expect(syncFlowOf("apply", 3)).toBe("rollback");
    expect(syncFlowOf("teardown", null)).toBe("teardown");
    expect(firstRunningState("apply")).toBe("evaluating");
    expect(firstRunningState("rollback")).toBe("deploying");
    expect(firstRunningState("teardown")).toBe("destroying");
  });
});

describe("decideTransition details", () => {
  const sync = { id: "s1", kind: "apply" as const, flow: "apply" as const };

  it("requires an error to fail and refuses one otherwise", () => {
    expect(decideTransition({ ...sync, state: "building" }, newDeploymentFacts, { to: "failed" }).ok).toBe(false);
    const bad = decideTransition({ ...sync, state: "building" }, newDeploymentFacts, {
      to: "deploying",
      error: { code: "internal", message: "x", derivation: null },
    });
    expect(bad.ok).toBe(false);
  });

  it("defaults a timeout error", () => {
    const d = decideTransition({ ...sync, state: "building" }, { ...newDeploymentFacts, state: "deploying" }, { to: "timed_out" });
    expect(d.ok && d.error?.code).toBe("timeout");
  });

  it("requires the newer sync to supersede", () => {
    expect(decideTransition({ ...sync, state: "queued" }, newDeploymentFacts, { to: "superseded" }).ok).toBe(false);
  });

  it("refuses to start while another sync is in flight", () => {
    expect(decideTransition({ ...sync, state: "queued" }, { ...newDeploymentFacts, state: "deploying" }, { to: "evaluating" }, "apply").ok).toBe(false);
  });

  it("records the cancel reason", () => {
    const d = decideTransition({ ...sync, state: "queued" }, newDeploymentFacts, { to: "cancelled", reason: "user" });
    expect(d.ok && d.events.find((e) => e.type === "sync.finished")?.data).toEqual({ state: "cancelled", error: null, reason: "user" });
  });
});
