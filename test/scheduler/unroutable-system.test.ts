/**
 * A derivation for a system no executor builds (rio: sched.dispatch.unroutable-system, test
 * test_unroutable_system_warn_then_dispatch): it stays ready and its build active, other work runs
 * past it, and the scheduler warns once per system until none of that system is left waiting.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { BuildState, SubmitBuildRequestSchema, type BuildEvent } from "../../generated/build_types_pb.js";
import { DerivationEventKind } from "../../generated/dag_pb.js";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { freshSalt, instantiateFixtureDag, type FixtureDag } from "../helpers/scheduler-fixture-dag.js";
import { connectScheduler, isTerminalEvent, openStream, sleep, type SchedulerClients } from "../helpers/scheduler-test-client.js";

const foreignSystem = "riscv64-linux";
const warnings: string[] = [];
let sched: LocalScheduler;
let c: SchedulerClients;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      warnings.push(chunk.toString());
      done();
    },
  });
  sched = await createLocalScheduler({ listen: "127.0.0.1:0", maxJobs: 1, logger: pino({ level: "warn" }, sink) });
  c = connectScheduler(sched.url);
});
afterAll(async () => {
  await sched.close();
});

function submit(dag: FixtureDag) {
  const req = create(SubmitBuildRequestSchema, { nodes: dag.nodes, edges: dag.edges });
  return openStream((signal, onHeader) => c.scheduler.submitBuild(req, { signal, onHeader }));
}

const unroutableWarnings = () => warnings.filter((w) => w.includes("no executor builds this system") && w.includes(foreignSystem)).length;
const startedOrEnded = (e: BuildEvent) => isTerminalEvent(e) || (e.event.case === "derivation" && e.event.value.kind === DerivationEventKind.STARTED);

describe("a derivation for a system no executor builds", () => {
  it("stays ready and its build active, without blocking other work; the warning fires once", async () => {
    const foreign = await instantiateFixtureDag([{ name: "foreign", system: foreignSystem, lines: 0 }], freshSalt());
    const s = submit(foreign);
    const id = await s.buildId;

    // the only slot is free for everything else
    const local = await instantiateFixtureDag([{ name: "local", lines: 0 }], freshSalt());
    const l = submit(local);
    expect((await l.waitFor(isTerminalEvent)).event.case).toBe("completed");
    l.abort();

    await sleep(500);
    expect(s.events.filter(startedOrEnded)).toEqual([]);
    expect(await c.scheduler.queryBuildStatus({ buildId: id })).toMatchObject({ state: BuildState.ACTIVE, queuedDerivations: 1, runningDerivations: 0 });
    const graph = await c.admin.getBuildGraph({ buildId: id });
    expect(graph.nodes.map((n) => [n.system, n.status, n.assignedExecutorId])).toEqual([[foreignSystem, "ready", ""]]);
    const cluster = await c.admin.clusterStatus({});
    expect(cluster.queuedBySystem[foreignSystem]).toBe(1);
    expect(unroutableWarnings()).toBe(1);

    // a second one of the same system: still one warning (edge-triggered, as rio's)
    const foreign2 = await instantiateFixtureDag([{ name: "foreign-2", system: foreignSystem, lines: 0 }], freshSalt());
    const s2 = submit(foreign2);
    const id2 = await s2.buildId;
    expect((await c.admin.clusterStatus({})).queuedBySystem[foreignSystem]).toBe(2);
    expect(unroutableWarnings()).toBe(1);

    // cancelling gives the waiting derivations up; once none is left the warning re-arms
    for (const b of [id, id2]) expect((await c.scheduler.cancelBuild({ buildId: b, reason: "no executor" })).cancelled).toBe(true);
    expect((await c.admin.getBuildGraph({ buildId: id })).nodes.map((n) => n.status)).toEqual(["dependency_failed"]);
    expect((await c.admin.clusterStatus({})).queuedBySystem[foreignSystem]).toBeUndefined();
    const foreign3 = await instantiateFixtureDag([{ name: "foreign-3", system: foreignSystem, lines: 0 }], freshSalt());
    const s3 = submit(foreign3);
    await c.scheduler.cancelBuild({ buildId: await s3.buildId, reason: "done" });
    expect(unroutableWarnings()).toBe(2);
    for (const x of [s, s2, s3]) x.abort();
  });
});
