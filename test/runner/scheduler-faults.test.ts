/**
 * The engine against a misbehaving scheduler: the local rio-compatible scheduler started here (so
 * the test holds its fault knobs), the service pointed at it with --rio-url.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { expectConsistentLog, readMarker } from "../helpers/engine-checks.js";
import { freshSalt, sleep, startEngine, type EngineClient, type InProcessEngine } from "../helpers/engine-service.js";

let sched: LocalScheduler;
let engine: InProcessEngine;
let api: EngineClient;
beforeAll(async () => {
  sched = await createLocalScheduler({ listen: "127.0.0.1:0", cleanupDelayMs: 60_000, orphanGraceMs: 300_000 });
  engine = await startEngine({ rioUrl: sched.url });
  api = await engine.client();
});
afterAll(async () => {
  await engine?.stop();
  await sched?.close();
});

async function buildIdOf(deployment: string, sync: string): Promise<string> {
  const e = await api.waitForEvent(deployment, (x) => x.sync === sync && x.type === "build.submitted");
  return String(e.data.build_id);
}

async function expectDeployedOnce(deployment: string, sync: string): Promise<void> {
  expect(await api.waitForState(deployment, sync, [], 40_000)).toBe("succeeded");
  const events = await expectConsistentLog(api, deployment);
  // Re-attached, never resubmitted.
  expect(events.filter((e) => e.type === "build.submitted")).toHaveLength(1);
  expect((await readMarker(engine.targetDir("acme", deployment)))?.sync).toBe(sync);
}

it("re-attaches when every stream ends without a terminal event", async () => {
  const d = "eof";
  const s = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 2 });
  await buildIdOf(d, s.sync.sync);
  await api.waitForEvent(d, (e) => e.type === "derivation" && e.data.kind === "started");
  sched.faults.endAllStreams();
  await sleep(300);
  sched.faults.endAllStreams();
  await expectDeployedOnce(d, s.sync.sync);
  const completed = (await api.allEvents(d)).filter((e) => e.type === "derivation" && e.data.kind === "completed").map((e) => e.data.drv);
  expect(new Set(completed).size).toBe(completed.length);
});

it("rides out UNAVAILABLE at submit and while following", async () => {
  const d = "unavailable";
  sched.faults.unavailableFor(1_500);
  const s = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 2 });
  await buildIdOf(d, s.sync.sync);
  await api.waitForEvent(d, (e) => e.type === "derivation" && e.data.kind === "started");
  sched.faults.unavailableFor(3_000);
  sched.faults.endAllStreams();
  await expectDeployedOnce(d, s.sync.sync);
});

it("settles a build rio forgot after it succeeded through ListBuilds, then deploys", async () => {
  const d = "forgot_done";
  const s = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 1 });
  const buildId = await buildIdOf(d, s.sync.sync);
  await api.waitForEvent(d, (e) => e.type === "derivation" && e.data.kind === "started");
  // Keep the runner away while the build finishes, then make rio forget it.
  sched.faults.unavailableFor(5_000);
  sched.faults.endAllStreams();
  await sleep(3_500);
  expect(sched.faults.forgetBuild(buildId)).toBe(true);
  expect(await api.waitForState(d, s.sync.sync, [], 40_000)).toBe("succeeded");
  await expectConsistentLog(api, d);
  expect((await readMarker(engine.targetDir("acme", d)))?.sync).toBe(s.sync.sync);
});

it("ends a sync scheduler_lost when rio forgets its build while it runs", async () => {
  const d = "forgot_running";
  const s = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 10 });
  const buildId = await buildIdOf(d, s.sync.sync);
  await api.waitForEvent(d, (e) => e.type === "derivation" && e.data.kind === "started");
  expect(sched.faults.forgetBuild(buildId)).toBe(true);
  expect(await api.waitForState(d, s.sync.sync, [], 40_000)).toBe("failed");
  expect((await api.get(d)).last?.error?.code).toBe("scheduler_lost");
  await expectConsistentLog(api, d);
  // The deployment is usable again right away.
  const next = await api.submit(d, { salt: freshSalt() });
  expect(await api.waitForState(d, next.sync.sync, [])).toBe("succeeded");
});

it("follows its build across a scheduler failover", async () => {
  const d = "failover";
  const s = await api.submit(d, { salt: freshSalt(), build_sleep_secs: 2 });
  await buildIdOf(d, s.sync.sync);
  await api.waitForEvent(d, (e) => e.type === "derivation" && e.data.kind === "started");
  await sched.faults.failover();
  await expectDeployedOnce(d, s.sync.sync);
});
