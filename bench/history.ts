/**
 * `deployment.history` and `sync.get` with 1,000,000 stored syncs: latency of the store operations
 * the procedures call (p50/p99), for an ordinary deployment, for one deployment holding a tenth of
 * all syncs (first page, deep pages, a rare state, a kind), and for sync.get by id.
 * Then the same database behind the whole service: `fediversity.deployment.history` and
 * `fediversity.sync.get` called over WAMP (autobahn-js, one call at a time) — the procedure's p99.
 * Target: deployment.history p99 < 5 ms.
 * Run: npx tsx bench/history.ts [syncs=1000000] [deployments=1000]
 */
import Database from "better-sqlite3";
import autobahn from "autobahn";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseServiceConfig } from "../src/config.js";
import { startService } from "../src/main.js";
import { openStore } from "../src/store/index.js";
import type { SyncHistoryInput } from "../src/store/index.js";

const total = Number(process.argv[2] ?? 1_000_000);
const deployments = Number(process.argv[3] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), "fd-bench-history-"));
const path = join(dir, "fediversity.sqlite");

// The deployments, through the store (so the rows are exactly what the service writes).
let store = openStore({ path });
for (let d = 0; d < deployments; d++) {
  store.submitSync({ tenant: "acme", deployment: `app${d}`, deploymentType: "t", kind: "apply", configuration: { d } });
  // Nothing left for the service's runner to pick up in part 2.
  store.cancelSyncs({ tenant: "acme", deployment: `app${d}` });
}
store.close();

// The bulk of the history, written directly: terminal syncs spread over the deployments, with
// deployment app0 holding a tenth of them. States: 60 % succeeded, 25 % superseded, 10 % failed,
// 4 % cancelled, 1 % timed out; 2 % are teardowns.
const t0 = process.hrtime.bigint();
const raw = new Database(path);
raw.pragma("journal_mode = WAL");
raw.pragma("synchronous = OFF");
raw.exec(`
  WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x < ${total - 1})
  INSERT INTO syncs (id, deployment_id, kind, mode, priority, state, deployment_type, config_hash, configuration,
                     submitted_at, started_at, finished_at, error_code, error_message)
  SELECT printf('01H%023d', x),
         CASE WHEN ((x * 7919 + 13) % 10007) % 10 = 0 THEN 1 ELSE 1 + (x % ${deployments}) END,
         CASE WHEN x % 50 = 37 THEN 'teardown' ELSE 'apply' END,
         'replace', 'interactive',
         CASE WHEN x % 100 < 60 THEN 'succeeded' WHEN x % 100 < 85 THEN 'superseded' WHEN x % 100 < 95 THEN 'failed'
              WHEN x % 100 < 99 THEN 'cancelled' ELSE 'timed_out' END,
         't',
         CASE WHEN x % 50 = 37 THEN NULL ELSE 'sha256:' || x END,
         CASE WHEN x % 50 = 37 THEN NULL ELSE '{"x":' || x || '}' END,
         '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z',
         CASE WHEN x % 100 BETWEEN 85 AND 94 THEN 'build_failed' WHEN x % 100 = 99 THEN 'timeout' END,
         CASE WHEN x % 100 BETWEEN 85 AND 94 THEN 'boom' WHEN x % 100 = 99 THEN 'too slow' END
  FROM i;
`);
raw.close();
console.log(`stored ${total.toLocaleString("en")} syncs over ${deployments} deployments in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);

store = openStore({ path });
for (const f of [{}, { state: "timed_out" as const }, { kind: "teardown" as const }, { kind: "teardown" as const, state: "failed" as const }]) {
  const n = store.syncHistory({ tenant: "acme", deployment: "app0", limit: 50, ...f }).syncs.length;
  if (n !== 50) throw new Error(`app0 ${JSON.stringify(f)}: only ${n} syncs on the first page`);
}
const ids = (store.syncHistory({ tenant: "acme", deployment: "app5", limit: 500 }).syncs).map((s) => s.sync);

async function measure(label: string, calls: number, fn: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(200, calls); i++) await fn(i); // warm the caches and statements
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const q = (p: number) => (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(3);
  const cpuPerCall = ((cpu.user + cpu.system) / calls / 1000).toFixed(3);
  console.log(`${label.padEnd(58)} p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  max ${q(1)} ms  CPU ${cpuPerCall} ms/call  (${calls} calls)`);
}

const history = (input: Partial<SyncHistoryInput> & { deployment: string }) => store.syncHistory({ tenant: "acme", ...input });
await measure("history, first page of 50, random ordinary deployment", 5000, (i) => history({ deployment: `app${1 + ((i * 7919) % (deployments - 1))}` }));
await measure("history, first page of 500, random ordinary deployment", 1000, (i) => history({ deployment: `app${1 + ((i * 7919) % (deployments - 1))}`, limit: 500 }));
await measure("history, first page of 50, deployment with 10 % of all syncs", 5000, () => history({ deployment: "app0" }));
let cursor: string | undefined;
await measure("history, walking pages of 50 back through that deployment", 2000, () => {
  const page = history({ deployment: "app0", ...(cursor ? { cursor } : {}) });
  cursor = page.next_cursor ?? undefined;
});
await measure("history, state timed_out (1 %), that deployment", 5000, () => history({ deployment: "app0", state: "timed_out" }));
await measure("history, kind teardown (2 %), that deployment", 5000, () => history({ deployment: "app0", kind: "teardown" }));
await measure("history, kind teardown + state failed, that deployment", 5000, () => history({ deployment: "app0", kind: "teardown", state: "failed" }));
await measure("sync.get by id", 10000, (i) => store.getSyncById("acme", ids[i % ids.length] ?? ""));
store.close();

// Part 2: the same file behind the service, over WAMP.
writeFileSync(join(dir, "principals.json"), JSON.stringify([{ authid: "acme-admin", role: "tenant", tenant: "acme", ticket: "bench-acme" }]));
const typesPath = fileURLToPath(new URL("../test/fixtures/e2e/deployment-types.json", import.meta.url));
const service = await startService(
  parseServiceConfig(["--data-dir", dir, "--principals", join(dir, "principals.json"), "--deployment-types", typesPath, "--listen", "127.0.0.1:0", "--log-level", "error"], {}),
);
(autobahn.log as unknown as { warn: () => void }).warn = () => {};
const call = (uri: string, kwargs: Record<string, unknown>) => session.call(uri, [], kwargs);
const session = await new Promise<autobahn.Session>((resolve, reject) => {
  const c = new autobahn.Connection({ url: service.url, realm: "fediversity", authmethods: ["ticket"], authid: "acme-admin", onchallenge: () => "bench-acme", max_retries: 0 });
  c.onopen = resolve;
  c.onclose = (reason) => {
    reject(new Error(reason));
    return true;
  };
  c.open();
});
const sample = (await call("fediversity.deployment.history", { deployment: "app3" })) as { syncs: unknown[] };
if (sample.syncs.length !== 50) throw new Error(`history over WAMP answered ${sample.syncs.length} syncs`);
console.log(`over WAMP (service in this process, autobahn-js client; load average ${loadavg()[0]?.toFixed(1)}):`);
await measure("  deployment.history, first page of 50, random deployment", 5000, (i) => call("fediversity.deployment.history", { deployment: `app${1 + ((i * 7919) % (deployments - 1))}` }));
await measure("  deployment.history, state timed_out, the 10 % deployment", 2000, () => call("fediversity.deployment.history", { deployment: "app0", state: "timed_out" }));
await measure("  sync.get", 5000, (i) => call("fediversity.sync.get", { sync: ids[i % ids.length] ?? "" }));
session.leave("wamp.close.normal", "done");
await service.stop();
rmSync(dir, { recursive: true, force: true });
