import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { BuildState, SubmitBuildRequestSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { BuildResultStatus } from "../../generated/types_pb.js";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { findInvalidPaths } from "../../src/eval/validity.js";
import { freshSalt, instantiateFixtureDag, type FixtureDag } from "../helpers/scheduler-fixture-dag.js";
import { connectScheduler, isTerminalEvent, openStream, type SchedulerClients } from "../helpers/scheduler-test-client.js";

let sched: LocalScheduler;
let c: SchedulerClients;

beforeAll(async () => {
  sched = await createLocalScheduler({ listen: "127.0.0.1:0", progressDebounceMs: 100 });
  c = connectScheduler(sched.url);
});
afterAll(async () => {
  await sched.close();
});

function submit(dag: FixtureDag, extra: { keepGoing?: boolean; priorityClass?: string } = {}) {
  const req = create(SubmitBuildRequestSchema, { nodes: dag.nodes, edges: dag.edges, ...extra });
  return openStream((signal, onHeader) => c.scheduler.submitBuild(req, { signal, onHeader }));
}

function derivationEvents(events: BuildEvent[], kind: DerivationEventKind): string[] {
  return events.flatMap((e) => (e.event.case === "derivation" && e.event.value.kind === kind ? [e.event.value.derivationPath] : []));
}

describe("local scheduler builds", () => {
  it("builds a DAG in dependency order with rio's event sequence, logs and admin views", async () => {
    const dag = await instantiateFixtureDag(
      [
        { name: "leaf-a", lines: 70, sleep: 0.3 },
        { name: "leaf-b", lines: 2 },
        { name: "top", deps: ["leaf-a", "leaf-b"], lines: 1 },
      ],
      freshSalt(),
      { inline: true },
    );
    const s = submit(dag);
    const id = await s.buildId;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const terminal = await s.waitFor(isTerminalEvent);
    expect(terminal.event.case).toBe("completed");
    if (terminal.event.case === "completed") expect(terminal.event.value.outputPaths).toEqual([dag.outputs.top]);

    const ev = s.events;
    expect(ev.map((e) => Number(e.sequence))).toEqual(ev.map((_, i) => i + 1));
    expect(ev.every((e) => e.buildId === id)).toBe(true);
    expect(ev[0]?.event.case).toBe("started");
    if (ev[0]?.event.case === "started") expect(ev[0].event.value).toMatchObject({ totalDerivations: 3, cachedDerivations: 0 });
    expect(ev[1]?.event.case).toBe("inputsResolved");
    expect(ev.filter(isTerminalEvent)).toHaveLength(1);
    const started = derivationEvents(ev, DerivationEventKind.STARTED);
    const completed = derivationEvents(ev, DerivationEventKind.COMPLETED);
    expect(new Set(completed)).toEqual(new Set(Object.values(dag.drvs)));
    expect(started.indexOf(dag.drvs.top!)).toBeGreaterThan(-1);
    // top starts only after both leaves completed
    const seqOf = (kind: DerivationEventKind, p: string) =>
      ev.find((e) => e.event.case === "derivation" && e.event.value.kind === kind && e.event.value.derivationPath === p)!.sequence;
    expect(seqOf(DerivationEventKind.STARTED, dag.drvs.top!)).toBeGreaterThan(seqOf(DerivationEventKind.COMPLETED, dag.drvs["leaf-a"]!));
    expect(seqOf(DerivationEventKind.STARTED, dag.drvs.top!)).toBeGreaterThan(seqOf(DerivationEventKind.COMPLETED, dag.drvs["leaf-b"]!));

    // logs: batches of <= 64 lines, numbered per derivation from 0, contiguous
    const logA = ev.flatMap((e) => (e.event.case === "log" && e.event.value.derivationPath === dag.drvs["leaf-a"] ? [e.event.value] : []));
    expect(logA.every((b) => b.lines.length <= 64)).toBe(true);
    const linesA = logA.flatMap((b) => b.lines.map((l, i) => [Number(b.firstLineNumber) + i, Buffer.from(l).toString()] as const));
    expect(linesA).toEqual([...Array.from({ length: 70 }, (_, i) => [i, `leaf-a line ${i}`]), [70, "leaf-a slept"]]);
    // progress is debounced (100 ms in this file) and carries the remaining critical path
    const progress = ev.filter((e) => e.event.case === "progress");
    expect(progress.length).toBeGreaterThan(0);
    const ms = (e: BuildEvent) => Number(e.timestamp!.seconds) * 1000 + e.timestamp!.nanos / 1e6;
    for (let i = 1; i < progress.length; i++) expect(ms(progress[i]!) - ms(progress[i - 1]!)).toBeGreaterThanOrEqual(95);
    const firstProgress = progress[0]!.event;
    expect(firstProgress.case === "progress" && firstProgress.value.criticalPathRemainingSecs).toBeGreaterThan(0n);

    // finished log from the store, last chunk complete
    const chunks = [];
    for await (const ch of c.admin.getBuildLogs({ buildId: id, derivationPath: dag.drvs["leaf-a"]!, sinceLine: 60n })) chunks.push(ch);
    expect(chunks.at(-1)?.isComplete).toBe(true);
    expect(Number(chunks[0]!.firstLineNumber)).toBe(60);
    expect(chunks.flatMap((ch) => ch.lines.map((l) => Buffer.from(l).toString()))).toEqual([...Array.from({ length: 10 }, (_, i) => `leaf-a line ${60 + i}`), "leaf-a slept"]);

    const status = await c.scheduler.queryBuildStatus({ buildId: id });
    expect(status).toMatchObject({ state: BuildState.SUCCEEDED, totalDerivations: 3, completedDerivations: 3 });
    const list = await c.admin.listBuilds({});
    expect(list.builds[0]).toMatchObject({ buildId: id, state: BuildState.SUCCEEDED, totalDerivations: 3 });
    const graph = await c.admin.getBuildGraph({ buildId: id });
    expect(graph.totalNodes).toBe(3);
    expect(graph.nodes.every((n) => n.status === "completed")).toBe(true);
    expect(graph.edges).toHaveLength(2);

    // resubmitting: the root's outputs are valid, so rio's top-down shortcut keeps only the root;
    // completed here already, it counts as cached (no CACHED event, as in rio's
    // reconcile_preexisting) and the build completes at once
    const again = submit(dag);
    await again.waitFor(isTerminalEvent);
    expect(again.events.map((e) => e.event.case)).toEqual(["started", "inputsResolved", "completed"]);
    if (again.events[0]?.event.case === "started") expect(again.events[0].event.value).toMatchObject({ totalDerivations: 1, cachedDerivations: 1 });

    // a fresh scheduler sees the valid root output in the store: a CACHED event at merge, before started
    const other = await createLocalScheduler({ listen: "127.0.0.1:0" });
    try {
      const oc = connectScheduler(other.url);
      const req = create(SubmitBuildRequestSchema, { nodes: dag.nodes, edges: dag.edges });
      const cases: string[] = [];
      for await (const e of oc.scheduler.submitBuild(req)) {
        cases.push(e.event.case === "derivation" ? `derivation:${e.event.value.kind}` : String(e.event.case));
        if (isTerminalEvent(e)) break;
      }
      const cached = `derivation:${DerivationEventKind.CACHED}`;
      expect(cases).toEqual([cached, "started", "inputsResolved", "completed"]);
    } finally {
      await other.close();
    }
    s.abort();
    again.abort();
    sched.faults.forgetBuild(id);
    sched.faults.forgetBuild(await again.buildId);
    expect(sched.derivationCount()).toBe(0);
  });

  it("prunes a submission to its roots when their outputs are all valid, and only then", async () => {
    const depSalt = freshSalt();
    const dag = await instantiateFixtureDag(
      [{ name: "dep-a", lines: 0, salt: depSalt }, { name: "dep-b", lines: 0 }, { name: "root", deps: ["dep-a", "dep-b"], lines: 0 }],
      freshSalt(),
    );
    const first = submit(dag);
    expect((await first.waitFor(isTerminalEvent)).event.case).toBe("completed");
    first.abort();
    sched.faults.forgetBuild(await first.buildId);
    const before = sched.derivationCount();

    // rio's check_roots_topdown: every root output is valid, so the dependencies are dropped
    const s = submit(dag);
    const terminal = await s.waitFor(isTerminalEvent);
    expect(terminal.event.case === "completed" && terminal.event.value.outputPaths).toEqual([dag.outputs.root]);
    const cached = s.events.find((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.CACHED);
    expect(cached?.event.case === "derivation" && cached.event.value.derivationPath).toBe(dag.drvs.root);
    const started = s.events.find((e) => e.event.case === "started");
    expect(started?.event.case === "started" && started.event.value).toMatchObject({ totalDerivations: 1, cachedDerivations: 1 });
    const id = await s.buildId;
    expect(await c.scheduler.queryBuildStatus({ buildId: id })).toMatchObject({ totalDerivations: 1, cachedDerivations: 1 });
    const graph = await c.admin.getBuildGraph({ buildId: id });
    expect(graph.nodes.map((n) => n.drvPath)).toEqual([dag.drvs.root]);
    expect(graph.edges).toHaveLength(0);
    // the pruned dependencies never entered the global table
    expect(sched.derivationCount()).toBe(before + 1);
    s.abort();

    // a root whose output is missing: no shortcut, the whole DAG is merged
    const partial = await instantiateFixtureDag([{ name: "dep-a", lines: 0, salt: depSalt }, { name: "root2", deps: ["dep-a"], lines: 0 }], freshSalt());
    expect(partial.drvs["dep-a"]).toBe(dag.drvs["dep-a"]);
    const p = submit(partial);
    expect((await p.waitFor(isTerminalEvent)).event.case).toBe("completed");
    const pStarted = p.events.find((e) => e.event.case === "started");
    expect(pStarted?.event.case === "started" && pStarted.event.value).toMatchObject({ totalDerivations: 2, cachedDerivations: 1 });
    expect(derivationEvents(p.events, DerivationEventKind.COMPLETED)).toEqual([partial.drvs.root2]);
    p.abort();
  });

  it("fails the build on the first failure without keep_going, and cancels sole-interest work", async () => {
    const dag = await instantiateFixtureDag(
      [
        { name: "bad", fail: true },
        { name: "slow", sleep: 20 },
        { name: "top", deps: ["bad", "slow"] },
      ],
      freshSalt(),
    );
    const s = submit(dag, { keepGoing: false });
    const terminal = await s.waitFor(isTerminalEvent);
    expect(terminal.event.case).toBe("failed");
    if (terminal.event.case === "failed") {
      expect(terminal.event.value.failedDerivation).toBe(dag.drvs.bad);
      expect(terminal.event.value.status).toBe(BuildResultStatus.UNSPECIFIED);
    }
    const failed = s.events.find((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.FAILED);
    expect(failed?.event.case === "derivation" && failed.event.value.failureStatus).toBe(BuildResultStatus.PERMANENT_FAILURE);
    expect(failed?.event.case === "derivation" && failed.event.value.errorMessage).toContain("bad");
    // "slow" was killed, not left to finish: its output never appears.
    await new Promise((r) => setTimeout(r, 500));
    expect((await findInvalidPaths([dag.outputs.slow!])).size).toBe(1);
    const graph = await c.admin.getBuildGraph({ buildId: await s.buildId });
    const st = Object.fromEntries(graph.nodes.map((n) => [n.drvPath, n.status]));
    // rio's handle_permanent_failure poisons the derivation (its `failed` is a transient state)
    expect(st[dag.drvs.bad!]).toBe("poisoned");
    expect(st[dag.drvs.slow!]).toBe("cancelled");
    s.abort();
    // a resubmission re-arms the poisoned derivation (rio: under POISON_RESUBMIT_RETRY_LIMIT)
    const again = submit(dag, { keepGoing: false });
    expect((await again.waitFor(isTerminalEvent)).event.case).toBe("failed");
    expect(derivationEvents(again.events, DerivationEventKind.STARTED)).toContain(dag.drvs.bad);
    again.abort();
  });

  it("keeps building independent siblings with keep_going and fails at the end", async () => {
    const dag = await instantiateFixtureDag(
      [
        { name: "bad", fail: true },
        { name: "ok", sleep: 0.5 },
        { name: "top", deps: ["bad", "ok"] },
      ],
      freshSalt(),
    );
    const s = submit(dag, { keepGoing: true });
    const terminal = await s.waitFor(isTerminalEvent);
    expect(terminal.event.case).toBe("failed");
    expect(derivationEvents(s.events, DerivationEventKind.COMPLETED)).toEqual([dag.drvs.ok]);
    expect(derivationEvents(s.events, DerivationEventKind.FAILED)).toEqual([dag.drvs.bad]);
    expect(derivationEvents(s.events, DerivationEventKind.STARTED)).not.toContain(dag.drvs.top);
    const status = await c.scheduler.queryBuildStatus({ buildId: await s.buildId });
    expect(status.state).toBe(BuildState.FAILED);
    expect(status.errorSummary).toContain(dag.drvs.bad);
    s.abort();
  });
});
