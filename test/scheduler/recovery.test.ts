import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BuildState, SubmitBuildRequestSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { BuildResultStatus } from "../../generated/types_pb.js";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { freshSalt, instantiateFixtureDag, type FixtureDag } from "../helpers/scheduler-fixture-dag.js";
import { connectScheduler, isTerminalEvent, openStream, sleep, type SchedulerClients } from "../helpers/scheduler-test-client.js";

let dir: string;
let sched: LocalScheduler;
let c: SchedulerClients;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sched-recovery-"));
  sched = await createLocalScheduler({ listen: "127.0.0.1:0", statePath: join(dir, "state.db"), killGraceMs: 1000 });
  c = connectScheduler(sched.url);
});
afterAll(async () => {
  await sched.close();
  rmSync(dir, { recursive: true, force: true });
});

function submit(client: SchedulerClients, dag: FixtureDag, extra: { buildTimeout?: bigint; maxSilentTime?: bigint } = {}) {
  const req = create(SubmitBuildRequestSchema, { nodes: dag.nodes, edges: dag.edges, ...extra });
  return openStream((signal, onHeader) => client.scheduler.submitBuild(req, { signal, onHeader }));
}

function watch(client: SchedulerClients, buildId: string, since: number) {
  return openStream((signal) => client.scheduler.watchBuild({ buildId, sinceSequence: BigInt(since) }, { signal }));
}

const completedOf = (p: string) => (e: BuildEvent) =>
  e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.COMPLETED && e.event.value.derivationPath === p;
const lastSeq = (events: BuildEvent[]) => Number(events.at(-1)?.sequence ?? 0n);
const nonLog = (events: BuildEvent[]) => events.filter((e) => e.event.case !== "log").map((e) => Number(e.sequence));

const chain = [
  { name: "c1", sleep: 0.4 },
  { name: "c2", deps: ["c1"], sleep: 0.4 },
  { name: "c3", deps: ["c2"], sleep: 0.4 },
];

describe("stream loss, failover and faults", () => {
  it("resumes a cut stream with WatchBuild(since) without losing a non-log event", async () => {
    const dag = await instantiateFixtureDag(chain, freshSalt());
    const s = submit(c, dag);
    const id = await s.buildId;
    await s.waitFor(completedOf(dag.drvs.c1!));
    sched.faults.endAllStreams();
    const end = await s.ended;
    expect(end.error).toBeUndefined();
    expect(s.events.some(isTerminalEvent)).toBe(false);
    const since = lastSeq(s.events);
    const w = watch(c, id, since);
    await w.waitFor(isTerminalEvent);
    expect(w.events.every((e) => Number(e.sequence) > since)).toBe(true);
    // a full replay is the reference: the two streams together hold every stored event
    const ref = watch(c, id, 0);
    await ref.waitFor(isTerminalEvent);
    const union = new Set([...nonLog(s.events), ...nonLog(w.events)]);
    expect([...union].sort((a, b) => a - b)).toEqual(nonLog(ref.events));
    expect(ref.events.filter(isTerminalEvent)).toHaveLength(1);
    // watching from the terminal's sequence: rio re-sends the terminal event, with that same
    // sequence (so not greater than since), instead of leaving the watcher silent until cleanup
    const last = lastSeq(ref.events);
    const tail = watch(c, id, last);
    const again = await tail.waitFor(isTerminalEvent, 3000);
    expect(Number(again.sequence)).toBe(last);
    expect(again.event).toEqual(ref.events.at(-1)!.event);
    await sleep(200);
    expect(tail.events).toHaveLength(1);
    for (const x of [w, ref, tail]) x.abort();
  });

  it("fails over: streams end with EOF, the same port serves again and the build finishes", async () => {
    const dag = await instantiateFixtureDag(chain, freshSalt());
    const s = submit(c, dag);
    const id = await s.buildId;
    await s.waitFor(completedOf(dag.drvs.c1!));
    await sched.faults.failover();
    const end = await s.ended;
    expect(end.error).toBeUndefined();
    expect(s.events.some(isTerminalEvent)).toBe(false);
    const since = lastSeq(s.events);
    const w = watch(c, id, since);
    const term = await w.waitFor(isTerminalEvent, 20_000);
    expect(term.event.case).toBe("completed");
    expect(Number(term.sequence)).toBeGreaterThan(since);
    const completed = [...s.events, ...w.events].filter((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.COMPLETED);
    expect(completed.map((e) => e.event.case === "derivation" && e.event.value.derivationPath)).toEqual(expect.arrayContaining([dag.drvs.c3]));
    w.abort();
  });

  it("reloads a non-terminal build in a new scheduler process over the same state file", async () => {
    const statePath = join(dir, "restart.db");
    const first = await createLocalScheduler({ listen: "127.0.0.1:0", statePath });
    const dag = await instantiateFixtureDag(chain, freshSalt());
    const s = submit(connectScheduler(first.url), dag);
    const id = await s.buildId;
    await s.waitFor(completedOf(dag.drvs.c1!));
    await first.close();
    await s.ended;
    const since = lastSeq(s.events);
    const second = await createLocalScheduler({ listen: "127.0.0.1:0", statePath });
    try {
      const c2 = connectScheduler(second.url);
      expect((await c2.scheduler.queryBuildStatus({ buildId: id })).state).toBe(BuildState.ACTIVE);
      const w = watch(c2, id, since);
      const term = await w.waitFor(isTerminalEvent, 20_000);
      expect(term.event.case).toBe("completed");
      expect(Number(term.sequence)).toBeGreaterThan(since);
      expect((await c2.admin.listBuilds({})).builds.map((b) => b.buildId)).toContain(id);
      w.abort();
    } finally {
      await second.close();
    }
  });

  it("refuses every RPC with UNAVAILABLE or RESOURCE_EXHAUSTED for a while", async () => {
    const code = async (p: Promise<unknown>) => p.then(() => "ok" as const, (e: unknown) => ConnectError.from(e).code);
    const dag = await instantiateFixtureDag([{ name: "u" }], freshSalt());
    sched.faults.unavailableFor(1500);
    expect(await code(c.admin.clusterStatus({}))).toBe(Code.Unavailable);
    const before = sched.liveBuildCount();
    const s = submit(c, dag);
    expect(await code(s.buildId)).toBe(Code.Unavailable);
    expect(sched.liveBuildCount()).toBe(before); // refused before anything was created
    await sleep(1600);
    expect(await code(c.admin.clusterStatus({}))).toBe("ok");
    sched.faults.resourceExhaustedFor(1000);
    expect(await code(c.scheduler.resolveTenant({ tenantName: "x" }))).toBe(Code.ResourceExhausted);
    await sleep(1100);
    expect(await code(c.scheduler.resolveTenant({ tenantName: "x" }))).toBe(Code.InvalidArgument);
  });

  it("injects synthetic events for the throughput benchmark and forgets a build early", async () => {
    const dag = await instantiateFixtureDag([{ name: "bench", sleep: 30 }], freshSalt());
    const s = submit(c, dag);
    const id = await s.buildId;
    await s.waitFor((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.STARTED);
    const before = s.events.length;
    await sched.faults.injectEvents(id, 5000, "log");
    const t0 = Date.now();
    while (s.events.length < before + 5000 && Date.now() - t0 < 10_000) await sleep(50);
    expect(s.events.filter((e) => e.event.case === "log" && e.event.value.executorId === "bench")).toHaveLength(5000);
    expect(sched.faults.forgetBuild(id)).toBe(true);
    expect((await s.ended).error).toBeUndefined();
    const code = await c.scheduler.queryBuildStatus({ buildId: id }).then(() => "ok", (e: unknown) => ConnectError.from(e).code);
    expect(code).toBe(Code.NotFound);
  });

  it("retries a derivation killed for max_silent_time 4 times before the build fails; applies build_timeout", async () => {
    const silent = await instantiateFixtureDag([{ name: "silent", sleep: 30 }], freshSalt());
    const s1 = submit(c, silent, { maxSilentTime: 1n });
    const t1 = await s1.waitFor(isTerminalEvent, 45_000);
    expect(t1.event.case).toBe("failed");
    // rio's handle_timeout_failure: up to max_timeout_retries (4) re-dispatches without a failure
    // event, each announced by STARTED; the fifth timeout is terminal
    const kinds = s1.events.flatMap((e) => (e.event.case === "derivation" ? [e.event.value.kind] : []));
    expect(kinds).toEqual([...Array<DerivationEventKind>(5).fill(DerivationEventKind.STARTED), DerivationEventKind.FAILED]);
    const f = s1.events.find((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.FAILED);
    expect(f?.event.case === "derivation" && f.event.value.failureStatus).toBe(BuildResultStatus.TIMED_OUT);
    // …and ends the derivation `cancelled` (retriable on resubmit), not poisoned
    const id1 = await s1.buildId;
    expect((await c.admin.getBuildGraph({ buildId: id1 })).nodes.map((n) => n.status)).toEqual(["cancelled"]);
    expect(await c.scheduler.queryBuildStatus({ buildId: id1 })).toMatchObject({ state: BuildState.FAILED, failedDerivations: 1 });

    const slow = await instantiateFixtureDag([{ name: "slow", sleep: 30 }, { name: "top", deps: ["slow"] }], freshSalt());
    const t0 = Date.now();
    const s2 = submit(c, slow, { buildTimeout: 1n });
    const t2 = await s2.waitFor(isTerminalEvent, 15_000);
    expect(t2.event.case).toBe("failed");
    expect(Date.now() - t0).toBeLessThan(10_000);
    s1.abort();
    s2.abort();
  });
});
