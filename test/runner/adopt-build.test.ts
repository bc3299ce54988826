/**
 * The crash window between rio accepting a build (the id arrives in a response header) and the
 * service storing that id. The window is a few microseconds wide, so the state a crash there leaves
 * is made directly: the service is stopped while the build runs, and the stored build id and
 * everything recorded after it are removed from the SQLite file. On restart the sync must adopt the
 * build rio is still running (no second build, no orphan left to rio's 5-minute cancel) and succeed.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createRioClient } from "../../src/rio/index.js";
import { createLocalScheduler, type LocalScheduler } from "../../src/scheduler/index.js";
import { expectConsistentLog } from "../helpers/engine-checks.js";
import { freshSalt, startEngine, type InProcessEngine } from "../helpers/engine-service.js";

let sched: LocalScheduler | null = null;
let engine: InProcessEngine | null = null;
afterAll(async () => {
  await engine?.stop();
  await sched?.close();
});

/** What the store holds after a crash right after rio's answer: the attempt, but no build id. */
function forgetBuildId(dataDir: string, sync: string): void {
  const db = new Database(join(dataDir, "fediversity.sqlite"));
  try {
    db.transaction(() => {
      const row = db.prepare("SELECT n, deployment_id FROM syncs WHERE id = ?").get(sync) as { n: number; deployment_id: number };
      const first = db.prepare("SELECT seq FROM events WHERE deployment_id = ? AND sync = ? AND type = 'build.submitted'").get(row.deployment_id, sync) as { seq: number };
      db.prepare("DELETE FROM events WHERE deployment_id = ? AND seq >= ?").run(row.deployment_id, first.seq);
      db.prepare("UPDATE deployments SET seq = ? WHERE id = ?").run(first.seq - 1, row.deployment_id);
      db.prepare(
        `UPDATE syncs SET build_id = NULL, rio_sequence = 0, submit_attempted = 1, build_total = 0, build_completed = 0, build_cached = 0,
           build_running = 0, build_failed = 0, build_queued = 0, build_critical_path_secs = NULL WHERE n = ?`,
      ).run(row.n);
    })();
  } finally {
    db.close();
  }
}

it("adopts the build rio accepted when its id was never stored", { timeout: 90_000 }, async () => {
  sched = await createLocalScheduler({ listen: "127.0.0.1:0" });
  engine = await startEngine({ rioUrl: sched.url });
  let api = await engine.client();
  const submitted = await api.submit("adopt", { salt: freshSalt(), build_sleep_secs: 6 });
  const sync = submitted.sync.sync;
  const first = await api.waitForEvent("adopt", (e) => e.type === "build.submitted");
  const buildId = first.data.build_id as string;
  await api.waitForEvent("adopt", (e) => e.type === "derivation" && e.data.kind === "started");
  await engine.stop({ keep: true });
  forgetBuildId(engine.dataDir, sync);

  engine = await startEngine({ rioUrl: sched.url, reuse: engine });
  api = await engine.client();
  expect(await api.waitForState("adopt", sync, [], 60_000)).toBe("succeeded");
  const events = await expectConsistentLog(api, "adopt", { joinedLate: true });
  const submissions = events.filter((e) => e.type === "build.submitted");
  expect(submissions.map((e) => e.data.build_id)).toEqual([buildId]);

  const metrics = await (await fetch(`${engine.service.httpUrl}/metrics`)).text();
  expect(metrics).toMatch(/^fediversity_rio_builds_adopted_total 1$/m);

  // rio ran exactly one build for the tenant, and it succeeded (it was not cancelled as an orphan).
  const rio = createRioClient({ url: sched.url });
  try {
    const page = await rio.listBuilds({ tenant: "acme", limit: 100 });
    expect(page.builds.map((b) => [b.buildId, b.state])).toEqual([[buildId, "succeeded"]]);
  } finally {
    rio.close();
  }
});
