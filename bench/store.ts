/**
 * Store throughput: syncs accepted/s (submitSync, one transaction each), events stored/s
 * (recordSyncProgress batches), log lines/s (appendLogLines batches), with 1,000 active deployments.
 * Run: npx tsx bench/store.ts [deployments=1000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pendingEvent } from "../src/core/index.js";
import { openStore } from "../src/store/index.js";

const deployments = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), "fd-bench-"));
const store = openStore({ path: join(dir, "bench.db") });
const names = Array.from({ length: deployments }, (_, i) => `app${i}`);
const config = (i: number) => ({ domain: `app${i}.example.org`, replicas: 2, features: { search: true, media: { s3: false } }, i });

function rate(label: string, count: number, fn: () => void): void {
  const t0 = process.hrtime.bigint();
  fn();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label.padEnd(34)} ${Math.round(count / secs).toLocaleString("en").padStart(10)}/s  (${count} in ${secs.toFixed(2)} s)`);
}

const submits = deployments * 10;
rate("syncs accepted (replace)", submits, () => {
  for (let i = 0; i < submits; i++) store.submitSync({ tenant: "acme", deployment: names[i % deployments] ?? "x", deploymentType: "t", kind: "apply", configuration: config(i) });
});
rate("syncs accepted (batches of 50)", submits, () => {
  for (let i = 0; i < submits; i += 50) {
    store.submitSyncs(Array.from({ length: 50 }, (_, k) => ({ tenant: "gamma", deployment: names[(i + k) % deployments] ?? "x", deploymentType: "t", kind: "apply" as const, configuration: config(i + k) })));
  }
});
rate("syncs accepted (enqueue)", submits, () => {
  for (let i = 0; i < submits; i++) {
    store.submitSync({ tenant: "beta", deployment: names[i % deployments] ?? "x", deploymentType: "t", kind: "apply", mode: "enqueue", configuration: config(i) });
  }
});

const claimed = store.claimRunnable(deployments * 2).claimed;
for (const c of claimed) store.transitionSync(c.id, "evaluating", "building");
console.log(`claimed and building: ${claimed.length}`);

const batch = 50;
const rounds = 20;
rate(`events stored (batches of ${batch})`, claimed.length * batch * rounds, () => {
  for (let r = 0; r < rounds; r++) {
    for (const c of claimed) {
      const events = Array.from({ length: batch }, (_, k) =>
        pendingEvent("derivation", c.id, { drv: `/nix/store/${r}-${k}.drv`, pname: `p${k}`, kind: "completed" }),
      );
      store.recordSyncProgress(c.id, { rioSequence: r * batch + batch, counters: { completed: r * batch }, events });
    }
  }
});
rate("events stored (one per transaction)", claimed.length * 5, () => {
  for (let r = 0; r < 5; r++) {
    for (const c of claimed) {
      store.recordSyncProgress(c.id, { events: [pendingEvent("build.started", c.id, { total: 10, cached: 2 })] });
    }
  }
});
const lines = Array.from({ length: 200 }, (_, k) => ({ source: "build" as const, derivation: "/nix/store/x.drv", text: `compiling module ${k} of the thing` }));
rate("log lines stored (batches of 200)", claimed.length * 200 * 5, () => {
  for (let r = 0; r < 5; r++) for (const c of claimed) store.appendLogLines(c.id, lines);
});
rate("deployment views read", deployments, () => {
  for (const n of names) store.getDeployment("acme", n);
});
console.log(`RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB with ${deployments * 3} deployments, ${claimed.length} syncs in flight`);
store.close();
rmSync(dir, { recursive: true, force: true });
