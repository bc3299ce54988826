import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { SubmitBuildRequestSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { freshSalt, instantiateFixtureDag, type FixtureDag } from "../helpers/scheduler-fixture-dag.js";
import { connectScheduler, isTerminalEvent, openStream, type SchedulerClients } from "../helpers/scheduler-test-client.js";

// One slot makes the dispatch order observable.
let sched: LocalScheduler;
let c: SchedulerClients;

beforeAll(async () => {
  sched = await createLocalScheduler({ listen: "127.0.0.1:0", maxJobs: 1 });
  c = connectScheduler(sched.url);
});
afterAll(async () => {
  await sched.close();
});

function submit(dag: FixtureDag, priorityClass = "") {
  const req = create(SubmitBuildRequestSchema, { nodes: dag.nodes, edges: dag.edges, priorityClass });
  return openStream((signal, onHeader) => c.scheduler.submitBuild(req, { signal, onHeader }));
}

const startedPaths = (events: BuildEvent[]) =>
  events.flatMap((e) => (e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.STARTED ? [e.event.value.derivationPath] : []));

describe("ready queue order", () => {
  it("runs the node on the longest critical path first", async () => {
    const dag = await instantiateFixtureDag(
      [
        { name: "short", lines: 0 },
        { name: "deep", lines: 0 },
        { name: "mid", deps: ["deep"], lines: 0 },
        { name: "top", deps: ["mid", "short"], lines: 0 },
      ],
      freshSalt(),
    );
    const s = submit(dag);
    await s.waitFor(isTerminalEvent);
    // deep (3 levels to the top) beats short (2); mid and short then tie, top comes last
    const order = startedPaths(s.events);
    expect(order[0]).toBe(dag.drvs.deep);
    expect(order[3]).toBe(dag.drvs.top);
    expect(order.indexOf(dag.drvs.mid!)).toBeGreaterThan(0);
    s.abort();
  });

  it("puts interactive work ahead of queued ci work", async () => {
    const blocker = await instantiateFixtureDag([{ name: "blocker", sleep: 2, lines: 0 }], freshSalt());
    const ci = await instantiateFixtureDag([{ name: "ci-a", lines: 0 }, { name: "ci-b", lines: 0 }], freshSalt());
    const ia = await instantiateFixtureDag([{ name: "interactive", lines: 0 }], freshSalt());
    const sb = submit(blocker, "ci");
    await sb.waitFor((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.STARTED);
    const sc = submit(ci, "ci");
    await sc.buildId;
    const si = submit(ia, "interactive");
    await si.buildId;
    for (const s of [sb, sc, si]) await s.waitFor(isTerminalEvent, 20_000);
    const when = (s: typeof sc, p: string) =>
      s.events.find((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.STARTED && e.event.value.derivationPath === p)!
        .timestamp!;
    const ms = (t: { seconds: bigint; nanos: number }) => Number(t.seconds) * 1000 + t.nanos / 1e6;
    const interactiveAt = ms(when(si, ia.drvs.interactive!));
    expect(interactiveAt).toBeLessThanOrEqual(ms(when(sc, ci.drvs["ci-a"]!)));
    expect(interactiveAt).toBeLessThanOrEqual(ms(when(sc, ci.drvs["ci-b"]!)));
    for (const s of [sb, sc, si]) s.abort();
  });

  it("dispatches a queued derivation shared with a later interactive build first (highest priority of its builds)", async () => {
    const blocker = await instantiateFixtureDag([{ name: "blocker", sleep: 3, lines: 0 }], freshSalt());
    const shared = { name: "shared", lines: 0, salt: freshSalt() };
    // Alone, filler (under filler-top) has the longer critical path and would go first.
    const scheduled = await instantiateFixtureDag([shared, { name: "filler", lines: 0 }, { name: "filler-top", deps: ["filler"], lines: 0 }], freshSalt());
    const interactive = await instantiateFixtureDag([shared], freshSalt());
    expect(interactive.drvs.shared).toBe(scheduled.drvs.shared);
    const sb = submit(blocker, "ci");
    await sb.waitFor((e) => e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.STARTED);
    const ss = submit(scheduled, "scheduled");
    await ss.buildId;
    const si = submit(interactive, "interactive");
    await si.buildId;
    // Both builds were merged while the only slot was busy: nothing of theirs has started yet.
    expect(startedPaths(ss.events)).toEqual([]);
    for (const s of [sb, ss, si]) await s.waitFor(isTerminalEvent, 30_000);
    expect(startedPaths(ss.events)).toEqual([scheduled.drvs.shared, scheduled.drvs.filler, scheduled.drvs["filler-top"]]);
    for (const s of [sb, ss, si]) s.abort();
  });
});
