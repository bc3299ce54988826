import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BuildState, SubmitBuildRequestSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { findInvalidPaths } from "../../src/eval/validity.js";
import { freshSalt, instantiateFixtureDag, type FixtureDag } from "../helpers/scheduler-fixture-dag.js";
import { connectScheduler, isTerminalEvent, openStream, sleep, type SchedulerClients } from "../helpers/scheduler-test-client.js";

let sched: LocalScheduler;
let c: SchedulerClients;

beforeAll(async () => {
  sched = await createLocalScheduler({
    listen: "127.0.0.1:0",
    orphanGraceMs: 1500,
    orphanCheckMs: 200,
    cleanupDelayMs: 1000,
    killGraceMs: 1000,
  });
  c = connectScheduler(sched.url);
});
afterAll(async () => {
  await sched.close();
});

function submit(dag: FixtureDag) {
  const req = create(SubmitBuildRequestSchema, { nodes: dag.nodes, edges: dag.edges });
  return openStream((signal, onHeader) => c.scheduler.submitBuild(req, { signal, onHeader }));
}

const startedOf = (p: string) => (e: BuildEvent) =>
  e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.STARTED && e.event.value.derivationPath === p;

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("cancellation and lifecycle", () => {
  it("cancels a running build, kills its nix-store and answers NOT_FOUND after cleanup", async () => {
    const dag = await instantiateFixtureDag([{ name: "long", sleep: 30 }], freshSalt());
    const s = submit(dag);
    const id = await s.buildId;
    await s.waitFor(startedOf(dag.drvs.long!));
    // the live log is a snapshot from the ring, never complete while running
    let live: { first: number; lines: string[]; complete: boolean[] } = { first: -1, lines: [], complete: [] };
    for (let i = 0; i < 50 && live.lines.length < 3; i++) {
      live = { first: -1, lines: [], complete: [] };
      try {
        for await (const ch of c.admin.getBuildLogs({ derivationPath: dag.drvs.long!, sinceLine: 1n })) {
          if (live.first < 0) live.first = Number(ch.firstLineNumber);
          live.lines.push(...ch.lines.map((l) => Buffer.from(l).toString()));
          live.complete.push(ch.isComplete);
        }
      } catch (err) {
        // NOT_FOUND while running just means "no lines yet"
        expect(ConnectError.from(err).code).toBe(Code.NotFound);
      }
      if (live.lines.length < 2) await sleep(100);
    }
    expect(live.first).toBe(1);
    expect(live.lines).toEqual(["long line 1", "long line 2"]);
    expect(live.complete.every((x) => !x)).toBe(true);
    const t0 = Date.now();
    expect((await c.scheduler.cancelBuild({ buildId: id, reason: "test cancel" })).cancelled).toBe(true);
    expect((await c.scheduler.cancelBuild({ buildId: id, reason: "again" })).cancelled).toBe(false);
    const terminal = await s.waitFor(isTerminalEvent);
    expect(terminal.event.case === "cancelled" && terminal.event.value.reason).toBe("test cancel");
    expect((await c.scheduler.queryBuildStatus({ buildId: id })).state).toBe(BuildState.CANCELLED);
    // after the cleanup delay the stream ends, and Watch/Query/Cancel say NOT_FOUND
    const end = await s.ended;
    expect(end.error).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(s.events.filter(isTerminalEvent)).toHaveLength(1);
    expect(sched.liveBuildCount()).toBe(0);
    expect(sched.derivationCount()).toBe(0);
    expect(await codeOf(c.scheduler.queryBuildStatus({ buildId: id }))).toBe(Code.NotFound);
    expect(await codeOf(c.scheduler.cancelBuild({ buildId: id }))).toBe(Code.NotFound);
    expect(await codeOf((async () => { for await (const _ of c.scheduler.watchBuild({ buildId: id })) break; })())).toBe(Code.NotFound);
    const list = await c.admin.listBuilds({ statusFilter: "cancelled" });
    expect(list.builds.map((b) => b.buildId)).toContain(id);
    const graph = await c.admin.getBuildGraph({ buildId: id });
    expect(graph.nodes.map((n) => [n.drvPath, n.status])).toEqual([[dag.drvs.long, "cancelled"]]);
    expect((await findInvalidPaths([dag.outputs.long!])).size).toBe(1);
    expect(await codeOf(c.scheduler.cancelBuild({ buildId: "not-a-uuid" }))).toBe(Code.InvalidArgument);
  });

  it("builds a shared derivation once for two builds; cancelling one leaves the other building", async () => {
    const shared = { name: "shared", sleep: 2, lines: 3, salt: freshSalt() };
    const a = await instantiateFixtureDag([shared, { name: "top-a", deps: ["shared"] }], freshSalt());
    const b = await instantiateFixtureDag([shared, { name: "top-b", deps: ["shared"] }], freshSalt());
    expect(a.drvs.shared).toBe(b.drvs.shared);
    const sa = submit(a);
    await sa.waitFor(startedOf(a.drvs.shared!));
    const sb = submit(b);
    const idA = await sa.buildId;
    await sb.buildId;
    const before = await c.admin.clusterStatus({});
    expect(before.runningDerivations).toBe(1);
    // both builds get the shared derivation's log lines
    expect((await c.scheduler.cancelBuild({ buildId: idA, reason: "only a" })).cancelled).toBe(true);
    const tb = await sb.waitFor(isTerminalEvent, 20_000);
    expect(tb.event.case).toBe("completed");
    const startedShared = sb.events.filter(startedOf(b.drvs.shared!)).length + sa.events.filter(startedOf(a.drvs.shared!)).length;
    expect(startedShared).toBe(2); // one dispatch, announced to each build (b joined while it ran)
    const completedShared = sb.events.filter((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.COMPLETED && e.event.value.derivationPath === b.drvs.shared);
    expect(completedShared).toHaveLength(1);
    // b joined while the shared derivation ran and still got its later log lines
    const sharedLines = sb.events.flatMap((e) =>
      e.event.case === "log" && e.event.value.derivationPath === b.drvs.shared ? e.event.value.lines.map((l) => Buffer.from(l).toString()) : [],
    );
    expect(sharedLines).toContain("shared slept");
    expect(sa.events.filter(isTerminalEvent).map((e) => e.event.case)).toEqual(["cancelled"]);
    expect(sa.events.some((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.COMPLETED)).toBe(false);
    sa.abort();
    sb.abort();
  });

  it("cancels a build nobody watches after the orphan grace", async () => {
    const dag = await instantiateFixtureDag([{ name: "orphan", sleep: 30 }], freshSalt());
    const s = submit(dag);
    const id = await s.buildId;
    await s.waitFor(startedOf(dag.drvs.orphan!));
    s.abort();
    await s.ended;
    // a watcher that comes and goes resets the timer
    await sleep(800);
    const w = openStream((signal) => c.scheduler.watchBuild({ buildId: id, sinceSequence: 0n }, { signal }));
    await w.waitFor((e) => e.event.case === "started");
    await sleep(800);
    expect((await c.scheduler.queryBuildStatus({ buildId: id })).state).toBe(BuildState.ACTIVE);
    w.abort();
    await w.ended;
    const t0 = Date.now();
    let state = BuildState.ACTIVE;
    while (state === BuildState.ACTIVE && Date.now() - t0 < 5000) {
      await sleep(200);
      state = (await c.scheduler.queryBuildStatus({ buildId: id })).state;
    }
    expect(state).toBe(BuildState.CANCELLED);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1200);
    const w2 = openStream((signal) => c.scheduler.watchBuild({ buildId: id, sinceSequence: 0n }, { signal }));
    const term = await w2.waitFor(isTerminalEvent);
    expect(term.event.case === "cancelled" && term.event.value.reason).toBe("orphan_watcher_no_client");
    w2.abort();
  });
});
