/**
 * Staying attached through faults of the local scheduler (real gRPC, real Nix): streams ending
 * without a terminal event, refusals before headers, failover right after the header, and a
 * build forgotten while we were away.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReattachInfo, RioClient, RioEvent, SubmitRetryInfo } from "../../src/rio/index.js";
import type { LocalScheduler } from "../../src/scheduler/index.js";
import { instantiateFixture } from "./nix-fixture.js";
import { clientFor, startPeer } from "./scheduler-peer.js";

let scheduler: LocalScheduler;
let rio: RioClient;
const reattaches: ReattachInfo[] = [];
const submitRetries: SubmitRetryInfo[] = [];

beforeAll(async () => {
  scheduler = await startPeer();
  rio = clientFor(scheduler, {
    hooks: { onReattach: (i) => void reattaches.push(i), onSubmitRetry: (i) => void submitRetries.push(i) },
  });
});

afterAll(async () => {
  rio?.close();
  await scheduler?.close();
});

async function buildCount(): Promise<number> {
  return (await rio.listBuilds({ limit: 1000 })).builds.length;
}

/** Every event WatchBuild replays from 0 (persisted = non-log), read up to the terminal one. */
async function replay(buildId: string): Promise<RioEvent[]> {
  const out: RioEvent[] = [];
  const ctrl = new AbortController();
  for await (const e of rio.watch(buildId, 0, { signal: ctrl.signal })) {
    out.push(e);
    if (e.type === "completed" || e.type === "failed" || e.type === "cancelled") break;
  }
  return out;
}

describe("rio client recovery", () => {
  it("re-attaches after a stream ends without a terminal event and loses no non-log event", async () => {
    reattaches.length = 0;
    const fx = await instantiateFixture([
      { name: "first", script: "echo a; sleep 0.5; echo b > $out" },
      { name: "second", script: "echo c; sleep 0.5; cat $first > $out", deps: ["first"] },
    ]);
    const build = await rio.submit({ dag: fx.dag });
    const got: RioEvent[] = [];
    let cuts = 0;
    const outcome = await build.follow({
      onEvent: (e) => {
        got.push(e);
        // Cut the stream twice: once on the submit stream, once on a WatchBuild stream.
        if (e.type === "derivation" && e.kind === "started" && cuts < 2) {
          cuts += 1;
          scheduler.faults.endAllStreams();
        }
      },
    });
    expect(outcome.type === "terminal" && outcome.event.type).toBe("completed");
    expect(cuts).toBe(2);
    expect(reattaches.filter((r) => r.buildId === build.buildId && r.reason === "eof").length).toBeGreaterThanOrEqual(2);

    const seqs = got.map((e) => e.sequence);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const persisted = await replay(build.buildId);
    const gotBySeq = new Map(got.map((e) => [e.sequence, e]));
    for (const e of persisted) expect(gotBySeq.get(e.sequence)).toEqual(e);
    expect(persisted.length).toBeGreaterThanOrEqual(6);
  });

  it.each(["unavailable", "resource_exhausted"] as const)(
    "retries SubmitBuild refused with %s before headers and creates exactly one build",
    async (kind) => {
      const fx = await instantiateFixture([{ name: "refused", script: "echo x > $out" }]);
      const before = await buildCount();
      submitRetries.length = 0;
      if (kind === "unavailable") scheduler.faults.unavailableFor(700);
      else scheduler.faults.resourceExhaustedFor(700);
      const build = await rio.submit({ dag: fx.dag });
      expect(submitRetries.length).toBeGreaterThanOrEqual(1);
      expect(submitRetries.every((r) => r.code === kind)).toBe(true);
      const outcome = await build.follow({ onEvent: () => {} });
      expect(outcome.type === "terminal" && outcome.event.type).toBe("completed");
      const list = await rio.listBuilds({ limit: 1000 });
      expect(list.builds.length).toBe(before + 1);
      expect(list.builds[0]?.buildId).toBe(build.buildId);
    },
  );

  it("never resubmits after the header: a submit stream broken right after it is followed by re-attaching", async () => {
    const fx = await instantiateFixture([{ name: "survivor", script: "echo one; sleep 1; echo done > $out" }]);
    const fx2 = await instantiateFixture([{ name: "eofed", script: "echo one; sleep 0.5; echo done > $out" }]);
    const before = await buildCount();
    reattaches.length = 0;
    // Failover (server restart keeping state) starts the moment the header is in.
    const build = await rio.submit({ dag: fx.dag });
    const failover = scheduler.faults.failover();
    const got: RioEvent[] = [];
    const outcome = await build.follow({ onEvent: (e) => void got.push(e) });
    await failover;
    expect(reattaches.filter((r) => r.buildId === build.buildId).length).toBeGreaterThanOrEqual(1);
    expect(outcome.type === "terminal" && outcome.event).toMatchObject({ type: "completed", buildId: build.buildId });
    const seqs = got.map((e) => e.sequence);
    expect(new Set(seqs).size).toBe(seqs.length);

    // Clean EOF of the submit stream before we read anything from it.
    const second = await rio.submit({ dag: fx2.dag });
    scheduler.faults.endAllStreams();
    const outcome2 = await second.follow({ onEvent: () => {} });
    expect(outcome2.type === "terminal" && outcome2.event.type).toBe("completed");

    const list = await rio.listBuilds({ limit: 1000 });
    expect(list.builds.length).toBe(before + 2);
    expect(list.builds.slice(0, 2).map((b) => b.buildId).sort()).toEqual([build.buildId, second.buildId].sort());
  });

  it("reports a build rio has forgotten as gone, not as an error", async () => {
    const fx = await instantiateFixture([{ name: "forgotten", script: "echo x; sleep 20; echo y > $out" }]);
    const build = await rio.submit({ dag: fx.dag });
    const outcome = await build.follow({
      onEvent: (e) => {
        if (e.type === "derivation" && e.kind === "started") {
          scheduler.faults.forgetBuild(build.buildId);
          scheduler.faults.endAllStreams();
        }
      },
    });
    expect(outcome.type).toBe("gone");
    expect(outcome.lastSequence).toBeGreaterThan(0);
    await expect(rio.query(build.buildId)).rejects.toMatchObject({ code: "not_found" });
    // Following it again later (e.g. after our own restart) says the same.
    expect((await rio.follow(build.buildId, { since: 3, onEvent: () => {} })).type).toBe("gone");
  });

  it("re-attaching to a finished build with since = its last sequence ends at once with its outcome", async () => {
    const [fxOk, fxBad, fxSlow] = await Promise.all([
      instantiateFixture([{ name: "fin-ok", script: "echo x > $out" }]),
      instantiateFixture([{ name: "fin-bad", script: "echo nope; exit 4" }]),
      instantiateFixture([{ name: "fin-slow", script: "sleep 30; echo y > $out" }]),
    ]);
    const ok = await rio.submit({ dag: fxOk!.dag });
    const bad = await rio.submit({ dag: fxBad!.dag });
    const slow = await rio.submit({ dag: fxSlow!.dag });
    const cancelled = slow.follow({ onEvent: (e) => void (e.type === "derivation" && e.kind === "started" && rio.cancel(slow.buildId, "enough")) });
    const firsts = await Promise.all([ok.follow({ onEvent: () => {} }), bad.follow({ onEvent: () => {} }), cancelled]);
    expect(firsts.map((o) => o.type === "terminal" && o.event.type)).toEqual(["completed", "failed", "cancelled"]);

    for (const [build, first] of [ok, bad, slow].map((b, i) => [b, firsts[i]!] as const)) {
      if (first.type !== "terminal") throw new Error("not terminal");
      // Without the re-sent terminal event the watcher would wait for rio's cleanup (60 s here).
      const signal = AbortSignal.timeout(5_000);
      const got: RioEvent[] = [];
      const again = await rio.follow(build.buildId, { since: first.lastSequence, signal, onEvent: (e) => void got.push(e) });
      expect(again.type).toBe("terminal");
      if (again.type !== "terminal") continue;
      expect(again.lastSequence).toBe(first.lastSequence);
      expect(again.event.sequence).toBe(first.lastSequence);
      expect(got).toEqual([again.event]);
      // rio rebuilds the event from the build's state: a cancellation loses its reason
      const { at: _at, ...expected } = first.event.type === "cancelled" ? { ...first.event, reason: "build was cancelled" } : first.event;
      expect(again.event).toMatchObject(expected);
      // one plain WatchBuild stream ends with that event too, rather than at rio's cleanup
      const watched: RioEvent[] = [];
      for await (const e of rio.watch(build.buildId, first.lastSequence, { signal })) watched.push(e);
      expect(watched.map((e) => [e.type, e.sequence])).toEqual([[first.event.type, first.lastSequence]]);
    }
  });

  it("gives up with a typed unavailable error after the configured tries", async () => {
    const fx = await instantiateFixture([{ name: "abandoned", script: "sleep 20; echo y > $out" }]);
    const build = await rio.submit({ dag: fx.dag });
    const stubborn = clientFor(scheduler, { reattach: { delaysMs: [30], maxAttempts: 3 } });
    reattaches.length = 0;
    scheduler.faults.unavailableFor(2000);
    const err = await stubborn.follow(build.buildId, { onEvent: () => {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "AppError", code: "unavailable" });
    stubborn.close();
    build.close();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await rio.cancel(build.buildId, "done")).toBe(true);
  });

  it("stops following when the caller aborts", async () => {
    const fx = await instantiateFixture([{ name: "aborted", script: "echo s; sleep 20; echo y > $out" }]);
    const build = await rio.submit({ dag: fx.dag });
    const ctrl = new AbortController();
    const outcome = await build.follow({
      signal: ctrl.signal,
      onEvent: (e) => {
        if (e.type === "derivation" && e.kind === "started") ctrl.abort();
      },
    });
    expect(outcome.type).toBe("aborted");
    expect(await rio.cancel(build.buildId, "cleanup")).toBe(true);
  });
});
