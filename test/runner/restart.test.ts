/**
 * A graceful restart (SIGTERM → RunningService.stop, then a new service on the same data dir)
 * with one sync held in each phase: each resumes where it was. The build is re-attached, never
 * resubmitted; the interrupted activation runs again in the new service life.
 */
import { afterAll, expect, it } from "vitest";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { expectConsistentLog, readActivations, readMarker } from "../helpers/engine-checks.js";
import { freshSalt, startEngine, type InProcessEngine } from "../helpers/engine-service.js";

let sched: LocalScheduler | null = null;
let engine: InProcessEngine | null = null;
const epoch = process.env.ENGINE_EPOCH;
afterAll(async () => {
  await engine?.stop();
  await sched?.close();
  if (epoch === undefined) delete process.env.ENGINE_EPOCH;
  else process.env.ENGINE_EPOCH = epoch;
});

it("resumes a sync in each phase after a restart", { timeout: 90_000 }, async () => {
  // The scheduler outlives the service here (as rio-build would); activation scripts see the
  // service's environment, so ENGINE_EPOCH tells the two service lives apart.
  sched = await createLocalScheduler({ listen: "127.0.0.1:0" });
  process.env.ENGINE_EPOCH = "1";
  engine = await startEngine({ rioUrl: sched.url });
  let api = await engine.client();
  const evaluating = await api.submit("at_eval", { salt: freshSalt(), eval_sleep_secs: 4 });
  const building = await api.submit("at_build", { salt: freshSalt(), build_sleep_secs: 5 });
  const deploying = await api.submit("at_deploy", { salt: freshSalt(), activate_sleep_secs: 4 });
  await api.waitForState("at_eval", evaluating.sync.sync, ["evaluating"]);
  await api.waitForEvent("at_build", (e) => e.type === "derivation" && e.data.kind === "started");
  await api.waitForEvent("at_deploy", (e) => e.type === "sync.state" && e.data.to === "deploying");
  await new Promise((r) => setTimeout(r, 500));

  await engine.stop({ keep: true });
  process.env.ENGINE_EPOCH = "2";
  engine = await startEngine({ rioUrl: sched.url, reuse: engine });
  api = await engine.client();

  for (const [d, s] of [["at_eval", evaluating], ["at_build", building], ["at_deploy", deploying]] as const) {
    expect(await api.waitForState(d, s.sync.sync, [], 60_000)).toBe("succeeded");
    const events = await expectConsistentLog(api, d, { joinedLate: true });
    expect(events.filter((e) => e.type === "build.submitted").length).toBeLessThanOrEqual(1);
    expect((await readMarker(engine.targetDir("acme", d)))?.sync).toBe(s.sync.sync);
  }
  // Built once: the build was followed across the restart, not submitted again.
  const buildEvents = await api.allEvents("at_build");
  expect(buildEvents.filter((e) => e.type === "build.submitted")).toHaveLength(1);
  // The activation interrupted by the stop ran again (and completed) in the second life only.
  const acts = await readActivations(engine.targetDir("acme", "at_deploy"));
  expect(acts.map((a) => `${a.what}@${a.epoch}`)).toEqual(["start@1", "start@2", "end@2"]);
});
