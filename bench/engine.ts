/**
 * The deployment engine under load, against the local rio-compatible scheduler (in a child
 * process, bench/engine-peer.ts, so it survives the service's restart and its memory and event
 * loop are its own). Deployment type: test/fixtures/engine (trivial derivations; every
 * deployment gets the same configuration, so all builds share one long-running derivation).
 *
 * Part A — the whole service (`startService`, embedded router, WAMP client):
 * - syncs accepted/s: 2 × N `deployment.submit` calls over WAMP (256 in flight) from a client in
 *   its own process (bench/engine-load.ts), replace mode, the second round superseding the first;
 *   first call to last answer. The runner claims and starts evaluating meanwhile.
 * - RSS with N active deployments: once every deployment has a sync in `building` following its
 *   rio build, after a full GC (process.memoryUsage of this process: the service, plus this
 *   bench's small bookkeeping; the scheduler and the load client are other processes).
 * - re-attach: the service is stopped (its N syncs stay `building`), the scheduler adds one progress
 *   event to each build, then the clock starts and a new service starts on the same data dir; the
 *   figure is the time until it has stored all N replayed events (= every sync re-attached).
 *
 * Part B — the engine's event path (store + rio client + runner, composed as main.ts does, so a
 * wire hook of the rio client can stamp arrivals): builds of B deployments are kept live and the
 * scheduler injects E progress events into each as fast as it can.
 * - events stored/s: domain events committed (store.onCommit) / time from first to last commit.
 * - p99 arrival → stored: per BuildEvent, from the moment the gRPC transport hands it to the rio
 *   client to the commit of the transaction that recorded its sequence.
 *
 * Run: npx tsx bench/engine.ts [deployments=1000] [events-per-build=5000] [builds=20]
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { pino } from "pino";
import { parseServiceConfig } from "../src/config.js";
import { createDeployer } from "../src/deploy/index.js";
import { AppError } from "../src/errors.js";
import { createEvaluator, loadDeploymentTypes } from "../src/eval/index.js";
import { startService, type RunningService } from "../src/main.js";
import { nixConfigText } from "../src/nix-env.js";
import { createRioClient } from "../src/rio/index.js";
import { createRunner } from "../src/runner/runner.js";
import { openStore } from "../src/store/index.js";
import { freshSalt, materializeDeploymentTypes, openClient, readPrincipals, sleep } from "../test/helpers/engine-service.js";

process.env.NIX_CONFIG = nixConfigText();
// A full GC before reading RSS, without asking for node flags (`npx tsx bench/engine.ts` as is).
v8.setFlagsFromString("--expose_gc");
const gc = vm.runInNewContext("gc") as () => void;
const deployments = Number(process.argv[2] ?? 1000);
const eventsPerBuild = Number(process.argv[3] ?? 5000);
const eventBuilds = Number(process.argv[4] ?? 20);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const line = (label: string, value: string, how: string) => console.log(`${label.padEnd(40)} ${value.padStart(14)}   ${how}`);

interface Peer {
  readonly url: string;
  inject(buildIds: readonly string[], count: number, kind: "log" | "progress"): Promise<void>;
  close(): Promise<void>;
}

async function startPeer(): Promise<Peer> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./engine-peer.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"] });
  const [ready] = (await once(child, "message")) as [{ url: string }];
  return {
    url: ready.url,
    async inject(buildIds, count, kind) {
      child.send({ inject: true, buildIds, count, kind });
      const [answer] = (await once(child, "message")) as [{ injected?: number; error?: string }];
      if (answer.error) throw new Error(answer.error);
    },
    async close() {
      child.send({ close: true });
      await Promise.race([once(child, "exit"), sleep(10_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

async function metric(service: RunningService, name: string): Promise<number> {
  const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m?.[1] ? Number(m[1]) : 0;
}

async function partA(peer: Peer, dir: string, typesPath: string): Promise<void> {
  const dataDir = join(dir, "a");
  const argv = ["--data-dir", dataDir, "--listen", "127.0.0.1:0", "--deployment-types", typesPath, "--rio-url", peer.url, "--concurrency", String(deployments + 16), "--log-level", "error"];
  const config = parseServiceConfig(argv, {});
  let service = await startService(config);
  const panel = (await readPrincipals(dataDir)).find((p) => p.role === "panel");
  if (!panel) throw new Error("no panel principal");
  const configuration = { salt: `bench-${freshSalt()}`, build_sleep_secs: 3600 };
  const names = Array.from({ length: deployments }, (_, i) => `app${i}`);
  gc();
  const idle = process.memoryUsage();
  line("RSS of the idle service", mb(idle.rss), `this process after startService and a full GC (heap used ${mb(idle.heapUsed)}; tsx's compiler included)`);

  // Syncs accepted/s over WAMP, from a client in its own process.
  const calls = [...names, ...names];
  const load = fork(fileURLToPath(new URL("./engine-load.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"] });
  load.send({ url: service.url, authid: panel.authid, ticket: panel.ticket, names: calls, configuration, window: 256 });
  const [answer] = (await once(load, "message")) as [{ secs?: number; error?: string }];
  load.kill();
  if (answer.secs === undefined) throw new Error(`load client failed: ${answer.error ?? "?"}`);
  line("syncs accepted/s (WAMP submit)", Math.round(calls.length / answer.secs).toLocaleString("en"), `${calls.length} submits from a client process, 256 in flight, ${answer.secs.toFixed(2)} s`);

  // Wait until every deployment has a sync following its build.
  const reader = openStore({ path: config.databasePath });
  const following = () => reader.nonTerminalSyncs({ inFlightOnly: true }).filter((s) => s.state === "building" && s.buildId !== null);
  const t1 = performance.now();
  let last = -1;
  for (;;) {
    const n = following().length;
    if (n >= deployments) break;
    if (n !== last && Math.round(performance.now() - t1) % 10 === 0) process.stderr.write(`\r  ${n}/${deployments} syncs building…`);
    last = n;
    await sleep(500);
  }
  process.stderr.write("\n");
  line("time to N syncs building", `${((performance.now() - t1) / 1000).toFixed(1)} s`, `(${deployments} evaluations, each a Nix process tree, ${availableParallelism()} at once)`);
  await sleep(2_000);
  const mem = process.memoryUsage();
  gc();
  gc();
  const settled = process.memoryUsage();
  line(`RSS with ${deployments} active deployments`, mb(settled.rss), `this process (service), after a full GC (heap used ${mb(settled.heapUsed)}); before it: ${mb(mem.rss)}`);

  // Restart → all in-flight syncs re-attached.
  await service.stop();
  const builds = following().map((s) => s.buildId ?? "");
  await peer.inject(builds, 1, "progress");
  const t2 = performance.now();
  service = await startService(config);
  const startedMs = performance.now() - t2;
  // Polled every 50 ms (each /metrics scrape queries the store, so faster polling would slow what it measures).
  while ((await metric(service, "fediversity_events_stored_total")) < builds.length) await sleep(50);
  const reattachMs = performance.now() - t2;
  line(`restart → ${builds.length} syncs re-attached`, `${(reattachMs / 1000).toFixed(2)} s`, `startService ${(startedMs / 1000).toFixed(2)} s, then until each sync stored its replayed event`);

  // Leave nothing running on the scheduler.
  const closing = await openClient(service.url, panel, "acme");
  for (const name of names) await closing.cancel(name).catch(() => undefined);
  closing.close();
  await service.stop();
  reader.close();
}

async function partB(peer: Peer, dir: string, typesPath: string): Promise<void> {
  const logger = pino({ level: "error" });
  const store = openStore({ path: join(dir, "b.sqlite") });
  const types = await loadDeploymentTypes(typesPath);
  const type = types.get("engine");
  if (!type) throw new Error("no engine type");

  // Arrival stamps: buildId → sequence → time the rio client got the decoded BuildEvent off the wire.
  const arrivals = new Map<string, Map<number, number>>();
  const onWireEvent = (buildId: string, sequence: number): void => {
    let stamps = arrivals.get(buildId);
    if (!stamps) arrivals.set(buildId, (stamps = new Map<number, number>()));
    stamps.set(sequence, performance.now());
  };
  const rio = createRioClient({ url: peer.url, hooks: { onWireEvent }, logger });
  const runner = createRunner({
    store,
    evaluator: createEvaluator({ logger, gcRootsDir: join(dir, "b-gcroots") }),
    rio,
    deploymentType: () => type,
    deployerFor: (t) => createDeployer(t.deployer, { stateDir: join(dir, "b-state"), logger }),
    ensureTenant: async (tenant) => {
      await rio.tenants.create({ name: tenant }).catch((e: unknown) => {
        if (!AppError.is(e, "conflict")) throw e;
      });
    },
    timeouts: { evalMs: 300_000, buildMs: 3_600_000, deployMs: 600_000 },
    concurrency: eventBuilds + 4,
    logger,
  });

  const latencies: number[] = [];
  const consumed = new Map<string, number>();
  let stored = 0;
  let first = 0;
  let lastAt = 0;
  let measuring = false;
  store.onCommit((batch) => {
    if (!measuring || batch.events.length === 0) return;
    const now = performance.now();
    if (first === 0) first = now;
    lastAt = now;
    stored += batch.events.length;
    for (const sync of new Set(batch.events.map((e) => e.sync ?? ""))) {
      const rec = store.getSyncRecord(sync);
      if (!rec.buildId) continue;
      const stamps = arrivals.get(rec.buildId);
      if (!stamps) continue;
      for (let seq = (consumed.get(rec.buildId) ?? 0) + 1; seq <= rec.rioSequence; seq++) {
        const at = stamps.get(seq);
        if (at !== undefined) latencies.push(now - at);
        stamps.delete(seq);
      }
      consumed.set(rec.buildId, rec.rioSequence);
    }
  });

  await runner.start();
  const configuration = { salt: `bench-${freshSalt()}`, build_sleep_secs: 3600 };
  for (let i = 0; i < eventBuilds; i++) {
    store.submitSync({ tenant: "acme", deployment: `ev${i}`, deploymentType: "engine", kind: "apply", configuration });
  }
  runner.kick();
  let building = store.nonTerminalSyncs({ inFlightOnly: true }).filter((s) => s.buildId !== null);
  while (building.length < eventBuilds) {
    await sleep(200);
    building = store.nonTerminalSyncs({ inFlightOnly: true }).filter((s) => s.buildId !== null);
  }
  await sleep(1_000);
  const buildIds = building.map((s) => s.buildId ?? "");
  // Only injected events count: skip everything that arrived before (build logs included, whose
  // sequences the store never records).
  for (const id of buildIds) consumed.set(id, Math.max(0, ...(arrivals.get(id)?.keys() ?? [])));
  measuring = true;
  const target = eventsPerBuild * eventBuilds;
  const injectStart = performance.now();
  await peer.inject(buildIds, eventsPerBuild, "progress");
  const injectSecs = (performance.now() - injectStart) / 1000;
  const deadline = performance.now() + 120_000;
  while (stored < target && performance.now() < deadline) await sleep(20);
  measuring = false;
  const secs = (lastAt - first) / 1000;
  line("domain events stored/s", Math.round(stored / secs).toLocaleString("en"), `${stored} of ${target} injected progress events (${eventBuilds} builds), ${secs.toFixed(2)} s first→last commit; the scheduler took ${injectSecs.toFixed(2)} s to emit them`);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  line("BuildEvent arrival → stored p50/p99", `${q(0.5).toFixed(1)}/${q(0.99).toFixed(1)} ms`, `${latencies.length} events; transport hand-up → commit of its sequence (max ${q(1).toFixed(1)} ms)`);

  store.cancelSyncs({ tenant: "acme", deployment: "ev0" });
  for (const s of store.nonTerminalSyncs({})) {
    const r = store.cancelSyncs({ tenant: s.tenant, deployment: s.deployment });
    runner.interrupt(r.interrupted, "cancelled");
  }
  await runner.stop();
  rio.close();
  store.close();
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "engine-bench-"));
  const { typesPath } = await materializeDeploymentTypes(dir);
  const peer = await startPeer();
  const load = () => loadavg().map((l) => l.toFixed(1)).join(" ");
  console.log(`engine bench: ${deployments} deployments; ${eventBuilds} builds × ${eventsPerBuild} events; node ${process.version}; ${availableParallelism()} CPUs, load average ${load()}`);
  try {
    await partA(peer, dir, typesPath);
    await partB(peer, dir, typesPath);
    console.log(`(load average at the end: ${load()}; the figures are CPU-bound and move with other load on this machine)`);
  } finally {
    await peer.close();
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

await main();
