/**
 * Per-phase timeouts (FEDIVERSITY_EVAL/BUILD/DEPLOY_TIMEOUT_SECS): a phase that runs too long ends
 * its sync `timed_out` with error code `timeout`, and the deployment moves on.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectConsistentLog, readActivations, readMarker } from "../helpers/engine-checks.js";
import { freshSalt, startEngine, type EngineClient, type InProcessEngine } from "../helpers/engine-service.js";

let engine: InProcessEngine;
let api: EngineClient;
beforeAll(async () => {
  engine = await startEngine({
    env: { FEDIVERSITY_EVAL_TIMEOUT_SECS: "2", FEDIVERSITY_BUILD_TIMEOUT_SECS: "2", FEDIVERSITY_DEPLOY_TIMEOUT_SECS: "2" },
  });
  api = await engine.client();
});
afterAll(async () => {
  await engine?.stop();
});

/** `quiet`: nothing else runs in the deployment afterwards, so its log can be checked now. */
async function expectTimedOut(deployment: string, sync: string, quiet = true): Promise<void> {
  expect(await api.waitForState(deployment, sync, [], 30_000)).toBe("timed_out");
  const view = await api.get(deployment);
  if (quiet) expect(view.last).toMatchObject({ sync, state: "timed_out", error: { code: "timeout" } });
  if (quiet) await expectConsistentLog(api, deployment);
}

it("times out an evaluation", async () => {
  const s = await api.submit("eval_slow", { salt: freshSalt(), eval_sleep_secs: 8 });
  const t0 = Date.now();
  await expectTimedOut("eval_slow", s.sync.sync);
  expect(Date.now() - t0).toBeLessThan(7_000);
  expect((await api.get("eval_slow")).state).toBe("idle");
});

it("times out a build and cancels it on rio", async () => {
  const s = await api.submit("build_slow", { salt: freshSalt(), build_sleep_secs: 8 });
  const t0 = Date.now();
  await expectTimedOut("build_slow", s.sync.sync);
  expect(Date.now() - t0).toBeLessThan(7_000);
  const operator = await engine.client("acme", "operator");
  const status = await operator.client.call<{ scheduler: { active_builds: number } }>("fediversity.queue.status", {});
  expect(status.scheduler.active_builds).toBe(0);
});

it("times out a build whose derivation no executor can build, and says why", async () => {
  // The local scheduler, like rio, keeps a derivation for a system none of its executors builds
  // waiting (the build stays active); the service's build timeout ends the sync.
  const s = await api.submit("build_foreign", { salt: freshSalt(), part_system: "riscv64-linux" });
  const t0 = Date.now();
  await expectTimedOut("build_foreign", s.sync.sync);
  expect(Date.now() - t0).toBeLessThan(7_000);
  const error = (await api.get("build_foreign")).last?.error;
  expect(error?.message).toMatch(/^build exceeded 2 s: 1 derivation was never started although its inputs were built: engine-part-1 \(riscv64-linux\); no rio executor took it/);
  const operator = await engine.client("acme", "operator");
  const status = await operator.client.call<{ scheduler: { active_builds: number } }>("fediversity.queue.status", {});
  expect(status.scheduler.active_builds).toBe(0);
});

it("times out an activation, rolls back to what was live, and runs the next sync", async () => {
  const d = "deploy_slow";
  const ok = await api.submit(d, { salt: freshSalt(), label: "good" });
  expect(await api.waitForState(d, ok.sync.sync, [])).toBe("succeeded");
  const slow = await api.submit(d, { salt: freshSalt(), label: "slow", activate_sleep_secs: 8 });
  await api.waitForState(d, slow.sync.sync, ["deploying"]);
  const next = await api.submit(d, { salt: freshSalt(), label: "next" });
  // The next sync starts right after the timeout, so the log is checked once it is done.
  await expectTimedOut(d, slow.sync.sync, false);
  expect(await api.waitForState(d, next.sync.sync, [])).toBe("succeeded");
  const log = await expectConsistentLog(api, d);
  const finished = log.find((e) => e.type === "sync.finished" && e.sync === slow.sync.sync);
  expect(finished?.data).toMatchObject({ state: "timed_out", error: { code: "timeout" } });
  expect((await readMarker(engine.targetDir("acme", d)))?.configuration.label).toBe("next");
  // The activation log: ok, the slow one (killed), the slow sync's automatic rollback to ok's
  // output, then next.
  const acts = (await readActivations(engine.targetDir("acme", d))).filter((a) => a.what === "start");
  const okOut = acts[0]?.out;
  const name = (sync: string) => (sync === ok.sync.sync ? "ok" : sync === slow.sync.sync ? "slow" : sync === next.sync.sync ? "next" : sync);
  expect(acts.map((a) => `${name(a.sync)}:${a.out === okOut ? "ok-output" : "own-output"}`)).toEqual(["ok:ok-output", "slow:own-output", "slow:ok-output", "next:own-output"]);
  await expectConsistentLog(api, d);
});
