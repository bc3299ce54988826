/**
 * The deployment state follows its in-flight sync in every phase (issue 11 §4.1): cancelling or
 * superseding a *queued* sync while another apply is evaluating or building used to flip the
 * deployment to idle/active (and store `deployment.state deploying → active`) until that apply's
 * next phase. A property-style run over random submit/enqueue/cancel/claim/advance/finish/reopen
 * sequences on a real SQLite file checks the rule after every step.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deploymentStateFor } from "../../src/core/index.js";
import type { SyncKind } from "../../src/core/index.js";
import { AppError } from "../../src/errors.js";
import { openStore } from "../../src/store/index.js";
import type { Store, SubmitSyncInput } from "../../src/store/index.js";
import { apply, freshStore, tempDir } from "./fixture.js";

const dir = tempDir();

/** deployment.state events of `deployment` as [from, to] pairs. */
function stateChanges(store: Store, deployment: string, tenant = "acme"): [unknown, unknown][] {
  return store
    .eventsSince(tenant, deployment, 0, 100_000)
    .events.filter((e) => e.type === "deployment.state")
    .map((e) => [e.data["from"], e.data["to"]]);
}

/** How far the deployment.state event chain of a deployment has been checked. */
interface ChainCursor {
  seq: number;
  state: unknown;
}

/** The rule, read back from the store: state = deploymentStateFor(in-flight kind, live generation). */
function expectStateFollowsSyncs(
  store: Store,
  deployment: string,
  context: string,
  chain: ChainCursor = { seq: 0, state: "idle" },
  tenant = "acme",
): void {
  const view = store.getDeployment(tenant, deployment);
  const inFlight = (view.current?.kind ?? null) as SyncKind | null;
  const expected = deploymentStateFor(inFlight, view.generation);
  expect(view.state, `${context}: state with current=${view.current?.state ?? "none"} generation=${view.generation}`).toBe(expected);
  // The stored deployment.state events chain from idle and end at the state shown.
  for (const e of store.eventsSince(tenant, deployment, chain.seq, 100_000).events) {
    chain.seq = e.seq;
    if (e.type !== "deployment.state") continue;
    expect(e.data["from"], `${context}: event chain`).toBe(chain.state);
    expect(e.data["to"], `${context}: an event that changes nothing`).not.toBe(e.data["from"]);
    chain.state = e.data["to"];
  }
  expect(chain.state, `${context}: last deployment.state event`).toBe(view.state);
}

describe("cancelling or superseding a queued sync while another apply runs", () => {
  for (const phase of ["evaluating", "building", "deploying"] as const) {
    it(`cancel(sync: queued B) leaves the deployment deploying while A is ${phase}`, () => {
      const store = freshStore(dir);
      const a = store.submitSync(apply("m", { v: 1 })).sync.sync;
      store.claimRunnable(1);
      if (phase !== "evaluating") store.transitionSync(a, "evaluating", "building");
      if (phase === "deploying") store.transitionSync(a, "building", "deploying");
      const b = store.submitSync(apply("m", { v: 2 }, { mode: "enqueue" })).sync.sync;
      const before = stateChanges(store, "m");

      const r = store.cancelSyncs({ tenant: "acme", deployment: "m", sync: b });
      expect(r.cancelled).toEqual([b]);
      expect(r.interrupted).toEqual([]);
      expect(r.events.map((e) => e.type)).toEqual(["sync.state", "sync.finished"]);
      const view = store.getDeployment("acme", "m");
      expect(view.current).toMatchObject({ sync: a, state: phase });
      expect(view.state).toBe("deploying");
      expect(stateChanges(store, "m")).toEqual(before);
      expectStateFollowsSyncs(store, "m", `A ${phase}`);
    });
  }

  it("cancel(sync: queued teardown) leaves the deployment deploying while an apply evaluates", () => {
    const store = freshStore(dir);
    const a = store.submitSync(apply("m")).sync.sync;
    store.claimRunnable(1);
    store.transitionSync(a, "evaluating", "deploying");
    store.finishSync(a, { from: "deploying", state: "succeeded", outputPaths: ["/nix/store/x-app"] });
    const a2 = store.submitSync(apply("m", { v: 2 })).sync.sync;
    store.claimRunnable(1);
    const t = store.submitSync({ tenant: "acme", deployment: "m", kind: "teardown", mode: "enqueue" }).sync.sync;
    store.cancelSyncs({ tenant: "acme", deployment: "m", sync: t });
    expect(store.getDeployment("acme", "m")).toMatchObject({ state: "deploying", generation: 1, current: { sync: a2, state: "evaluating" } });
    expectStateFollowsSyncs(store, "m", "teardown cancelled");
  });

  it("cancel everything while A evaluates: the deployment ends idle with one deploying → idle event", () => {
    const store = freshStore(dir);
    store.submitSync(apply("m"));
    store.claimRunnable(1);
    store.submitSync(apply("m", { v: 2 }, { mode: "enqueue" }));
    store.cancelSyncs({ tenant: "acme", deployment: "m" });
    expect(store.getDeployment("acme", "m").state).toBe("idle");
    expect(stateChanges(store, "m")).toEqual([
      ["idle", "deploying"],
      ["deploying", "idle"],
    ]);
  });
});

/** mulberry32: a small seeded generator, so a failing sequence can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("property: the deployment state equals deploymentStateFor(in-flight kind, live generation) after every step", () => {
  const deployments = ["d0", "d1"];
  const expectedCodes = new Set(["conflict", "not_found", "resource_exhausted"]);

  const path = join(dir, "property.db");
  const open = () => openStore({ path, limits: { maxNonTerminalSyncs: 6 } });

  /** One random sequence on its own tenant of the shared store file; returns the store (reopened or not). */
  function runSequence(initial: Store, seed: number, steps: number, counts: Map<string, number>): Store {
    let store = initial;
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const tenant = `t${seed}`;
    const known = new Map<string, string[]>(deployments.map((d) => [d, []]));
    const chains = new Map<string, ChainCursor>(deployments.map((d) => [d, { seq: 0, state: "idle" }]));
    const submit = (deployment: string, more: Partial<SubmitSyncInput>) =>
      store.submitSync({ tenant, deployment, deploymentType: "mastodon", kind: "apply", ...more });
    for (let step = 0; step < steps; step++) {
      const dep = pick(deployments);
      const syncs = known.get(dep)!;
      const view = syncs.length > 0 ? store.getDeployment(tenant, dep) : null;
      const current = view?.current ?? null;
      const op = pick([
        "apply", "apply", "enqueue", "enqueue", "teardown", "rollback",
        "claim", "claim", "advance", "advance", "finish", "finish",
        "cancel-one", "cancel-one", "cancel-queued", "cancel-all", "reopen",
      ] as const);
      try {
        switch (op) {
          case "apply":
          case "enqueue":
            syncs.push(submit(dep, { configuration: { step }, mode: op === "apply" ? "replace" : "enqueue" }).sync.sync);
            break;
          case "teardown":
            syncs.push(submit(dep, { kind: "teardown", mode: pick(["replace", "enqueue"] as const) }).sync.sync);
            break;
          case "rollback":
            syncs.push(submit(dep, { mode: pick(["replace", "enqueue"] as const), rollback: {} }).sync.sync);
            break;
          case "claim":
            store.claimRunnable(1 + Math.floor(rnd() * 2));
            break;
          case "advance":
            if (current?.state === "evaluating") store.transitionSync(current.sync, "evaluating", pick(["building", "deploying"] as const));
            else if (current?.state === "building") store.transitionSync(current.sync, "building", "deploying");
            break;
          case "finish":
            if (current) {
              const done = current.state === "deploying" || current.state === "destroying";
              const outcome = done ? pick(["succeeded", "succeeded", "failed", "timed_out"] as const) : pick(["failed", "timed_out"] as const);
              store.finishSync(current.sync, {
                from: current.state as "evaluating",
                state: outcome,
                ...(outcome === "failed" ? { error: { code: "internal" as const, message: "chaos", derivation: null } } : {}),
                ...(outcome === "succeeded" && current.kind === "apply" ? { outputPaths: [`/nix/store/${step}-app`] } : {}),
              });
            }
            break;
          case "cancel-one":
            if (syncs.length > 0) store.cancelSyncs({ tenant, deployment: dep, sync: pick(syncs) });
            break;
          case "cancel-queued": {
            const queued = view?.queue ?? [];
            if (queued.length > 0) store.cancelSyncs({ tenant, deployment: dep, sync: pick(queued).sync });
            if (queued.length > 0 && (current?.state === "evaluating" || current?.state === "building")) {
              counts.set("behind-running", (counts.get("behind-running") ?? 0) + 1);
            }
            break;
          }
          case "cancel-all":
            if (syncs.length > 0) store.cancelSyncs({ tenant, deployment: dep });
            break;
          case "reopen":
            // A restart: everything read back comes from the file.
            store.close();
            store = open();
            break;
        }
      } catch (err) {
        if (!(AppError.is(err) && expectedCodes.has(err.code))) throw err;
      }
      counts.set(op, (counts.get(op) ?? 0) + 1);
      for (const d of deployments) {
        if ((known.get(d) ?? []).length > 0) expectStateFollowsSyncs(store, d, `seed ${seed} step ${step} after ${op} on ${d}`, chains.get(d), tenant);
      }
    }
    // Leave nothing runnable behind, so the next sequence's claims only see its own syncs.
    for (const d of deployments) {
      if ((known.get(d) ?? []).length === 0) continue;
      store.cancelSyncs({ tenant, deployment: d });
      const current = store.getDeployment(tenant, d).current;
      if (current) store.finishSync(current.sync, { from: current.state as "deploying", state: "timed_out" });
      expectStateFollowsSyncs(store, d, `seed ${seed} drained`, chains.get(d), tenant);
    }
    return store;
  }

  it("holds over 100 random sequences of 60 steps (two deployments each, one real SQLite file, reopened at random)", () => {
    const counts = new Map<string, number>();
    let store = open();
    try {
      for (let seed = 1; seed <= 100; seed++) store = runSequence(store, seed, 60, counts);
    } finally {
      store.close();
    }
    // Every kind of step ran many times (the sequences are not degenerate).
    for (const op of ["behind-running", "apply", "enqueue", "teardown", "rollback", "claim", "advance", "finish", "cancel-one", "cancel-queued", "cancel-all", "reopen"]) {
      expect(counts.get(op) ?? 0, op).toBeGreaterThan(op === "behind-running" ? 15 : 150);
    }
  });
});
