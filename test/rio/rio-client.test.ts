/**
 * The rio client against the local scheduler over real gRPC on loopback, with real Nix builds:
 * submit and follow, failures, cancel, logs, paging, tenants and the header timeout.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createRioClient, type RioClient, type RioEvent } from "../../src/rio/index.js";
import type { LocalScheduler } from "../../src/scheduler/index.js";
import { instantiateFixture } from "./nix-fixture.js";
import { clientFor, startPeer } from "./scheduler-peer.js";

let scheduler: LocalScheduler;
let rio: RioClient;

beforeAll(async () => {
  scheduler = await startPeer();
  rio = clientFor(scheduler);
});

afterAll(async () => {
  rio?.close();
  await scheduler?.close();
});

function collect() {
  const events: RioEvent[] = [];
  return { events, onEvent: (e: RioEvent) => void events.push(e) };
}

describe("rio client against the local scheduler", () => {
  it("submits a DAG and follows it to completion, each event once and in order", async () => {
    const fx = await instantiateFixture([
      { name: "dep", script: "echo building dep; echo dep > $out" },
      { name: "top", script: "echo line1; cat $dep > $out", deps: ["dep"] },
    ]);
    const build = await rio.submit({ dag: fx.dag, priority: "ci" });
    expect(build.buildId).toMatch(/^[0-9a-f-]{36}$/);
    const { events, onEvent } = collect();
    const outcome = await build.follow({ onEvent });

    expect(outcome.type).toBe("terminal");
    if (outcome.type !== "terminal") return;
    expect(outcome.event.type).toBe("completed");
    const seqs = events.map((e) => e.sequence);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.at(-1)).toBe(outcome.event);
    expect(events.every((e) => e.buildId === build.buildId && /^\d{4}-\d\d-\d\dT.*Z$/.test(e.at))).toBe(true);
    const completedDrvs = events.filter((e) => e.type === "derivation" && e.kind === "completed").map((e) => e.type === "derivation" && e.derivation);
    expect(completedDrvs.sort()).toEqual([fx.drv.dep, fx.drv.top].sort());
    const topNode = fx.dag.nodes.find((n) => n.drvPath === fx.drv.top)!;
    if (outcome.event.type === "completed") expect(outcome.event.outputPaths).toEqual(topNode.expectedOutputPaths);
    const logLines = events.flatMap((e) => (e.type === "log" ? e.lines : []));
    expect(logLines).toContain("line1");

    const status = await rio.query(build.buildId);
    expect(status).toMatchObject({ buildId: build.buildId, state: "succeeded", totalDerivations: 2, completedDerivations: 2 });
    const graph = await rio.buildGraph(build.buildId);
    expect(graph.nodes.map((n) => n.status)).toEqual(["completed", "completed"]);
    expect(graph.edges).toEqual([{ parent: fx.drv.top, child: fx.drv.dep }]);
    const cluster = await rio.clusterStatus();
    expect(cluster.totalExecutors).toBeGreaterThan(0);
    expect(cluster.uptimeSince).toMatch(/Z$/);
  });

  it("reports a failure with the failing derivation from the per-derivation FAILED event", async () => {
    const fx = await instantiateFixture([
      { name: "broken", script: "echo about to fail; exit 3" },
      { name: "parent", script: "cat $broken > $out", deps: ["broken"] },
    ]);
    const build = await rio.submit({ dag: fx.dag });
    const { events, onEvent } = collect();
    const outcome = await build.follow({ onEvent });
    expect(outcome.type === "terminal" && outcome.event.type).toBe("failed");
    const failedDrv = events.find((e) => e.type === "derivation" && e.kind === "failed");
    expect(failedDrv).toMatchObject({ derivation: fx.drv.broken });
    expect(failedDrv?.type === "derivation" && failedDrv.failureStatus).not.toBe("");
    if (outcome.type === "terminal" && outcome.event.type === "failed") {
      expect(outcome.event.failedDerivation).toBe(fx.drv.broken);
    }
    const snapshot = await rio.logs(build.buildId, fx.drv.broken!, 0);
    expect(snapshot.lines).toContain("about to fail");
  });

  it("cancels a running build: cancelled event with the reason, second cancel is a no-op", async () => {
    const fx = await instantiateFixture([{ name: "slow", script: "echo started; sleep 30; echo x > $out" }]);
    const build = await rio.submit({ dag: fx.dag });
    const { events, onEvent } = collect();
    const following = build.follow({
      onEvent: async (e) => {
        onEvent(e);
        if (e.type === "derivation" && e.kind === "started") expect(await rio.cancel(build.buildId, "test says stop")).toBe(true);
      },
    });
    const outcome = await following;
    expect(outcome.type === "terminal" && outcome.event).toMatchObject({ type: "cancelled", reason: "test says stop" });
    expect(events.some((e) => e.type === "derivation" && e.kind === "started")).toBe(true);
    expect(await rio.cancel(build.buildId, "again")).toBe(false);
    expect((await rio.query(build.buildId)).state).toBe("cancelled");
  });

  it("takes log snapshots from a line number", async () => {
    const fx = await instantiateFixture([{ name: "chatty", script: "for i in 0 1 2 3 4; do echo l$i; done; printf '\\377bad\\n'; echo ok > $out" }]);
    const build = await rio.submit({ dag: fx.dag });
    await build.follow({ onEvent: () => {} });
    const all = await rio.logs(build.buildId, fx.drv.chatty!, 0);
    expect(all.lines.slice(0, 5)).toEqual(["l0", "l1", "l2", "l3", "l4"]);
    expect(all.lines).toContain("\uFFFDbad");
    const tail = await rio.logs(build.buildId, fx.drv.chatty!, 3);
    expect(tail.firstLineNumber).toBe(3);
    expect(tail.lines[0]).toBe("l3");
  });

  it("pages through listBuilds with a cursor and filters by status", async () => {
    const all = await rio.listBuilds({ limit: 1000 });
    expect(all.builds.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await rio.listBuilds({ limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.builds.map((b) => b.buildId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen.slice(0, all.builds.length)).toEqual(all.builds.map((b) => b.buildId));
    const failed = await rio.listBuilds({ status: "failed" });
    expect(failed.builds.length).toBeGreaterThanOrEqual(1);
    expect(failed.builds.every((b) => b.state === "failed")).toBe(true);
    await expect(rio.listBuilds({ cursor: "not-a-cursor" })).rejects.toMatchObject({ code: "invalid_argument" });
    // rio takes an empty cursor that is set for a bad one; ours means the first page by it
    expect((await rio.listBuilds({ limit: 1000, cursor: "" })).builds.map((b) => b.buildId)).toEqual(all.builds.map((b) => b.buildId));
  });

  it("creates, lists and resolves tenants; duplicates are conflicts", async () => {
    const name = `team-${Date.now()}`;
    const t = await rio.tenants.create({ name, gcRetentionHours: 24, cacheToken: "secret" });
    expect(t).toMatchObject({ tenantName: name, gcRetentionHours: 24, hasCacheToken: true });
    expect((await rio.tenants.list()).map((x) => x.tenantName)).toContain(name);
    expect(await rio.tenants.resolve(name)).toBe(t.tenantId);
    await expect(rio.tenants.create({ name })).rejects.toMatchObject({ code: "conflict" });
    await expect(rio.tenants.resolve("nobody-here")).rejects.toMatchObject({ code: "invalid_argument" });
    const fx = await instantiateFixture([{ name: "tenanted", script: "echo x > $out" }]);
    const build = await rio.submit({ dag: fx.dag, tenant: name });
    await build.follow({ onEvent: () => {} });
    const mine = await rio.listBuilds({ tenant: name });
    expect(mine.builds.map((b) => b.buildId)).toEqual([build.buildId]);
    expect(mine.builds[0]?.tenantId).toBe(t.tenantId);
  });

  it("bounds only the wait for headers: a silent peer times out, a long stream does not", async () => {
    // A peer that accepts TCP and never answers: the headers never come.
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const dead = createRioClient({ url: `http://127.0.0.1:${port}`, headerTimeoutMs: 300, unaryTimeoutMs: 300 });
    const fx = await instantiateFixture([{ name: "lasting", script: "sleep 2; echo x > $out" }]);
    const t0 = Date.now();
    const err = await dead.submit({ dag: fx.dag }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(5000);
    dead.close();
    silent.close();

    const quick = clientFor(scheduler, { headerTimeoutMs: 500 });
    const build = await quick.submit({ dag: fx.dag });
    const outcome = await build.follow({ onEvent: () => {} });
    expect(outcome.type === "terminal" && outcome.event.type).toBe("completed");
    quick.close();
  });
});
