import { describe, expect, it } from "vitest";
import { decideCancel } from "./cancel.js";
import type { DeploymentFacts } from "./deployment-state.js";
import { decideSubmit } from "./submit.js";
import type { SubmitRequest } from "./submit.js";
import type { SyncState } from "./sync-state.js";
import type { SyncFacts } from "./transition.js";

const limits = { maxNonTerminalSyncs: 100 };
const req = (over: Partial<SubmitRequest> = {}): SubmitRequest => ({
  id: "new",
  kind: "apply",
  mode: "replace",
  priority: "interactive",
  configHash: "sha256:x",
  rollbackGeneration: null,
  ...over,
});
const apply = (id: string, state: SyncState): SyncFacts => ({ id, kind: "apply", flow: "apply", state });
const teardown = (id: string, state: SyncState): SyncFacts => ({ id, kind: "teardown", flow: "teardown", state });
const active: DeploymentFacts = { state: "active", liveGeneration: 2, latestGeneration: 2 };
const deploying: DeploymentFacts = { ...active, state: "deploying" };

describe("decideSubmit", () => {
  it("returns the first sync for a repeated request_id and changes nothing", () => {
    const d = decideSubmit({ deployment: deploying, nonTerminal: [apply("a", "building")], sameRequest: "old" }, req(), limits);
    expect(d).toEqual({ outcome: "existing", syncId: "old" });
  });

  it("replace supersedes queued syncs and an evaluating/building one", () => {
    for (const inFlight of ["evaluating", "building"] as const) {
      const d = decideSubmit(
        { deployment: deploying, nonTerminal: [apply("a", inFlight), apply("b", "queued"), teardown("c", "queued")], sameRequest: null },
        req(),
        limits,
      );
      expect(d.outcome).toBe("accepted");
      if (d.outcome !== "accepted") return;
      expect(d.superseded).toEqual([{ id: "a", from: inFlight }, { id: "b", from: "queued" }, { id: "c", from: "queued" }]);
      expect(d.position).toBe(0);
      expect(d.deployment.state).toBe("active");
      expect(d.events.map((e) => `${e.type}:${e.sync}`)).toEqual([
        "sync.superseded:a", "sync.state:a", "sync.finished:a", "deployment.state:a",
        "sync.superseded:b", "sync.state:b", "sync.finished:b",
        "sync.superseded:c", "sync.state:c", "sync.finished:c",
        "sync.queued:new",
      ]);
      expect(d.events[0]?.data).toEqual({ by: "new" });
    }
  });

  it("replace never interrupts deploying or destroying: the new sync waits behind it", () => {
    for (const s of [apply("a", "deploying"), teardown("a", "destroying")]) {
      const dep = { ...active, state: s.kind === "apply" ? "deploying" : "destroying" } as const;
      const d = decideSubmit({ deployment: dep, nonTerminal: [s, apply("b", "queued")], sameRequest: null }, req(), limits);
      expect(d.outcome === "accepted" && d.superseded).toEqual([{ id: "b", from: "queued" }]);
      expect(d.outcome === "accepted" && d.position).toBe(1);
      expect(d.outcome === "accepted" && d.deployment.state).toBe(dep.state);
      expect(d.outcome === "accepted" && d.events.some((e) => e.type === "deployment.state")).toBe(false);
    }
  });

  it("enqueue supersedes nothing and goes behind everything", () => {
    const d = decideSubmit(
      { deployment: deploying, nonTerminal: [apply("a", "building"), apply("b", "queued")], sameRequest: null },
      req({ mode: "enqueue" }),
      limits,
    );
    expect(d.outcome === "accepted" && d.superseded).toEqual([]);
    expect(d.outcome === "accepted" && d.position).toBe(2);
    expect(d.outcome === "accepted" && d.events).toEqual([
      {
        type: "sync.queued",
        sync: "new",
        data: { kind: "apply", mode: "enqueue", priority: "interactive", config_hash: "sha256:x", rollback_generation: null, position: 2 },
      },
    ]);
  });

  it("rejects beyond the limit of non-terminal syncs, counting after superseding", () => {
    const many = Array.from({ length: 100 }, (_, i) => apply(`s${i}`, i === 0 ? "deploying" : "queued"));
    expect(decideSubmit({ deployment: deploying, nonTerminal: many, sameRequest: null }, req({ mode: "enqueue" }), limits).outcome).toBe("rejected");
    expect(decideSubmit({ deployment: deploying, nonTerminal: many, sameRequest: null }, req({ mode: "replace" }), limits).outcome).toBe("accepted");
    const few = many.slice(0, 99);
    expect(decideSubmit({ deployment: deploying, nonTerminal: few, sameRequest: null }, req({ mode: "enqueue" }), limits).outcome).toBe("accepted");
  });
});

describe("decideCancel", () => {
  it("cancels the in-flight and queued syncs, refuses a deploying one", () => {
    const d = decideCancel({ deployment: deploying, nonTerminal: [apply("a", "deploying"), apply("b", "queued")] }, { reason: "user" });
    expect(d.cancelled).toEqual([{ id: "b", from: "queued" }]);
    expect(d.refused).toEqual([{ sync: "a", reason: "deploying" }]);
    expect(d.deployment.state).toBe("deploying");
  });

  it("cancels a building sync and the deployment falls back", () => {
    const d = decideCancel({ deployment: deploying, nonTerminal: [apply("a", "building")] }, {});
    expect(d.cancelled).toEqual([{ id: "a", from: "building" }]);
    expect(d.deployment.state).toBe("active");
    expect(d.events.map((e) => e.type)).toEqual(["sync.state", "sync.finished", "deployment.state"]);
  });

  it("refuses destroying and terminal targets", () => {
    const t = teardown("t", "destroying");
    expect(decideCancel({ deployment: { ...active, state: "destroying" }, nonTerminal: [t] }, { target: t }).refused).toEqual([
      { sync: "t", reason: "deploying" },
    ]);
    expect(decideCancel({ deployment: active, nonTerminal: [] }, { target: apply("x", "succeeded") }).refused).toEqual([
      { sync: "x", reason: "terminal" },
    ]);
  });
});
