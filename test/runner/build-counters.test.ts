/**
 * Build counters over a real build on the local scheduler (issue 11 §4.4): a sync whose build has
 * some derivations cached and some built. Every `build.progress` event, and the sync view at the
 * end, must add up as the contract's sync view says (completed + cached + running + failed + queued
 * = total, completed excluding cached), and completed, cached, failed and total never go down —
 * also across a restart of the service mid-build. rio-build's own BuildProgress counts cached
 * derivations in `completed`; that used to reach the sync view unchanged (total 9, completed 8,
 * cached 7 mid-build, then completed 2 at the end).
 */
import { afterAll, describe, expect, it } from "vitest";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { freshSalt, startEngine, type ApiEvent, type EngineClient, type InProcessEngine } from "../helpers/engine-service.js";

interface Counters {
  total: number;
  completed: number;
  cached: number;
  running: number;
  failed: number;
  queued: number;
  critical_path_remaining_secs: number | null;
}

let sched: LocalScheduler | null = null;
let engine: InProcessEngine | null = null;
afterAll(async () => {
  await engine?.stop();
  await sched?.close();
});

/** Checks every build.progress event of `sync`, in order; returns them. */
function checkProgress(events: readonly ApiEvent[], sync: string): Counters[] {
  const progress = events.filter((e) => e.sync === sync && e.type === "build.progress").map((e) => e.data as unknown as Counters);
  expect(progress.length).toBeGreaterThan(1);
  let last: Counters | null = null;
  let builtSoFar = 0;
  for (const e of events) {
    if (e.sync !== sync) continue;
    if (e.type === "derivation" && e.data.kind === "completed") builtSoFar += 1;
    if (e.type !== "build.progress") continue;
    const c = e.data as unknown as Counters;
    const where = `build.progress #${e.seq} ${JSON.stringify(c)}`;
    for (const v of [c.total, c.completed, c.cached, c.running, c.failed, c.queued]) expect(Number.isInteger(v) && v >= 0, where).toBe(true);
    expect(c.completed + c.cached + c.running + c.failed + c.queued, `${where}: the parts add up to total`).toBe(c.total);
    // completed counts what was built: never more than the derivations reported completed so far.
    expect(c.completed, `${where}: completed excludes cached`).toBeLessThanOrEqual(builtSoFar);
    if (last) {
      for (const k of ["total", "completed", "cached", "failed"] as const) expect(c[k], `${where}: ${k} went backwards from ${last[k]}`).toBeGreaterThanOrEqual(last[k]);
    }
    last = c;
  }
  return progress;
}

async function buildOnce(api: EngineClient, deployment: string, configuration: Parameters<EngineClient["submit"]>[1]): Promise<string> {
  const s = await api.submit(deployment, configuration);
  return s.sync.sync;
}

describe("build counters with cached and built derivations", () => {
  it("add up and never go backwards in every build.progress event and in the final sync view", { timeout: 120_000 }, async () => {
    engine = await startEngine();
    const api = await engine.client();
    const salt = freshSalt();
    // Four parts built by the first sync are cached for the second, which builds two more parts and its app.
    const first = await buildOnce(api, "counters", { salt, parts: 4, build_sleep_secs: 0.6 });
    expect(await api.waitForState("counters", first, [], 90_000)).toBe("succeeded");
    const second = await buildOnce(api, "counters", { salt, parts: 6, build_sleep_secs: 0.6, label: "more" });
    expect(await api.waitForState("counters", second, [], 90_000)).toBe("succeeded");

    const events = await api.allEvents("counters");
    const started = events.find((e) => e.sync === second && e.type === "build.started");
    expect(started?.data).toEqual({ total: 7, cached: 4 });
    const progress = checkProgress(events, second);
    const final = { total: 7, completed: 3, cached: 4, running: 0, failed: 0, queued: 0, critical_path_remaining_secs: 0 };
    expect(progress.at(-1)).toEqual(final);
    expect((await api.get("counters")).last).toMatchObject({ sync: second, build: final });
    // The first sync built everything it had: nothing cached.
    expect(checkProgress(events, first).at(-1)).toEqual({ total: 5, completed: 5, cached: 0, running: 0, failed: 0, queued: 0, critical_path_remaining_secs: 0 });
    await engine.stop();
    engine = null;
  });

  it("stay monotone and add up across a restart of the service mid-build", { timeout: 150_000 }, async () => {
    // The scheduler outlives the service (as rio-build would): the build is re-attached from the
    // stored sequence, so its build.started is not seen again by the new service life.
    sched = await createLocalScheduler({ listen: "127.0.0.1:0", maxJobs: 1 });
    engine = await startEngine({ rioUrl: sched.url });
    let api = await engine.client();
    const salt = freshSalt();
    // The same parts and sleep, so the second sync finds the first two parts built.
    const first = await buildOnce(api, "restart", { salt, parts: 2, build_sleep_secs: 1.5 });
    expect(await api.waitForState("restart", first, [], 90_000)).toBe("succeeded");
    const second = await buildOnce(api, "restart", { salt, parts: 5, build_sleep_secs: 1.5, label: "more" });
    await api.waitForEvent("restart", (e) => e.sync === second && e.type === "build.progress" && (e.data as unknown as Counters).running > 0, 60_000);
    expect((await api.allEvents("restart")).find((e) => e.sync === second && e.type === "build.started")?.data).toEqual({ total: 6, cached: 2 });

    await engine.stop({ keep: true });
    engine = await startEngine({ rioUrl: sched.url, reuse: engine });
    api = await engine.client();
    expect(await api.waitForState("restart", second, [], 90_000)).toBe("succeeded");

    const events = await api.allEvents("restart");
    const final = { total: 6, completed: 4, cached: 2, running: 0, failed: 0, queued: 0, critical_path_remaining_secs: 0 };
    expect(checkProgress(events, second).at(-1)).toEqual(final);
    expect((await api.get("restart")).last).toMatchObject({ sync: second, build: final });
  });

  it("a failing build ends with its counters adding up, the failure counted", { timeout: 120_000 }, async () => {
    engine = await startEngine();
    const api = await engine.client();
    const salt = freshSalt();
    const first = await buildOnce(api, "fails", { salt, parts: 2 });
    expect(await api.waitForState("fails", first, [], 90_000)).toBe("succeeded");
    // fail_build changes part 1 only: part 2 is cached, part 1 fails, the app never builds.
    const second = await buildOnce(api, "fails", { salt, parts: 3, fail_build: true, build_sleep_secs: 0 });
    expect(await api.waitForState("fails", second, [], 90_000)).toBe("failed");
    const events = await api.allEvents("fails");
    const last = checkProgress(events, second).at(-1)!;
    expect(last.failed).toBeGreaterThanOrEqual(1);
    expect(last.running).toBe(0);
    expect((await api.get("fails")).last).toMatchObject({ sync: second, build: last });
  });
});
