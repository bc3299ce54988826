/**
 * Crash safety: the service runs as a child process and is killed with SIGKILL at random points of
 * a multi-deployment scenario, 21 times, then restarted on the same data dir (its in-process local
 * scheduler dies with it and reloads its builds from its state file). Afterwards: every submitted
 * sync reached a terminal state, no sync was deployed twice in one service life nor after it was
 * recorded as finished, every event log is gapless and legal, and each target shows the last
 * successful apply.
 *
 * A crash here is what a process supervisor does (systemd KillMode=control-group, a container
 * runtime): the service and every process it started (nix builds, evaluations and activation
 * scripts run in their own process groups) are killed together. They are found by a marker
 * variable in their environment.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { prng } from "../helpers/processes.js";
import { AppError } from "../../src/errors.js";
import { eventLogProblems, readActivations, readMarker, syncStates } from "../helpers/engine-checks.js";
import {
  freshSalt,
  killProcessesMarked,
  materializeDeploymentTypes,
  openClient,
  readPrincipals,
  sleep,
  spawnService,
  terminalStates,
  type ApiEvent,
  type ChildService,
  type EngineClient,
  type EngineConfiguration,
} from "../helpers/engine-service.js";

// ENGINE_KILLS lowers the count for a quick local run; CI runs the default.
const kills = Number(process.env.ENGINE_KILLS ?? 21);
const deployments = ["k1", "k2", "k3", "k4"];
const runId = randomUUID();
const marker = `ENGINE_KILL_TEST=${runId}`;
let dir = "";
let current: ChildService | null = null;

afterAll(async () => {
  await current?.kill9().catch(() => undefined);
  await killProcessesMarked(marker);
  if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
});


interface Request {
  readonly requestId: string;
  readonly deployment: string;
  readonly kind: "apply" | "teardown";
  readonly configuration: EngineConfiguration;
  readonly mode: "replace" | "enqueue";
  sync: string | null;
}

it(`loses no sync and deploys nothing twice across ${kills} kill -9s`, { timeout: 240_000 }, async () => {
  const seed = Number(process.env.ENGINE_KILL_SEED ?? Date.now() % 1_000_000);
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  dir = await mkdtemp(join(tmpdir(), "engine-kill-"));
  const dataDir = join(dir, "data");
  const { typesPath } = await materializeDeploymentTypes(dir);
  const args = ["--data-dir", dataDir, "--listen", "127.0.0.1:0", "--deployment-types", typesPath, "--log-level", "info"];
  const requests: Request[] = [];
  const started: number[] = [];

  const start = async (epoch: number): Promise<EngineClient> => {
    const t0 = Date.now();
    current = await spawnService(args, { ...process.env, ENGINE_KILL_TEST: runId, ENGINE_EPOCH: String(epoch) });
    started.push(Date.now() - t0);
    const panel = (await readPrincipals(dataDir)).find((p) => p.role === "panel");
    if (!panel) throw new Error("no panel principal");
    const api = await openClient(current.url, panel, "acme");
    // Requests whose answer was lost in a crash: the same request_id tells what became of them.
    for (const r of requests.filter((q) => q.sync === null)) await send(api, r);
    return api;
  };

  const send = async (api: EngineClient, r: Request): Promise<void> => {
    const opts = { mode: r.mode, request_id: r.requestId };
    const result = r.kind === "apply" ? await api.submit(r.deployment, r.configuration, opts) : await api.remove(r.deployment, opts);
    r.sync = result.sync.sync;
  };

  const act = async (api: EngineClient): Promise<void> => {
    const deployment = pick(deployments);
    const known = requests.some((q) => q.deployment === deployment && q.sync !== null);
    const roll = random();
    if (known && roll < 0.08) {
      // Cancel everything cancellable (a deploying sync is refused); its outcome is in the log.
      await api.cancel(deployment);
      return;
    }
    if (known && roll < 0.13) {
      // Roll back; refused (not_found) while there is no earlier generation.
      await api.rollback(deployment).catch((err: unknown) => {
        if (!AppError.is(err, "not_found") && !AppError.is(err, "invalid_argument") && !AppError.is(err, "conflict")) throw err;
      });
      return;
    }
    const teardown = known && random() < 0.1;
    const r: Request = {
      requestId: randomUUID(),
      deployment,
      kind: teardown ? "teardown" : "apply",
      mode: random() < 0.7 ? "replace" : "enqueue",
      configuration: {
        salt: freshSalt(),
        label: `r${requests.length}`,
        ...(random() < 0.2 ? { eval_sleep_secs: 0.4 } : {}),
        build_sleep_secs: pick([0, 0.3, 0.8]),
        activate_sleep_secs: pick([0, 0.3, 0.8]),
      },
      sync: null,
    };
    requests.push(r);
    await send(api, r);
  };

  for (let epoch = 1; epoch <= kills; epoch++) {
    const api = await start(epoch);
    const until = Date.now() + 300 + random() * 2_200;
    try {
      while (Date.now() < until) {
        await act(api);
        await sleep(random() * 400);
      }
    } catch {
      // The kill below may have raced an answer; the request is resolved after the restart.
    }
    await current?.kill9();
    current = null;
    api.close();
    await killProcessesMarked(marker);
  }

  // Last life: no kill. Everything submitted must end.
  const api = await start(kills + 1);
  const deadline = Date.now() + 90_000;
  const logs = new Map<string, ApiEvent[]>();
  for (;;) {
    let pending = 0;
    for (const d of deployments) {
      const events = await api.allEvents(d).catch(() => [] as ApiEvent[]);
      logs.set(d, events);
      const states = syncStates(events);
      pending += [...states.values()].filter((s) => !(terminalStates as readonly string[]).includes(s)).length;
    }
    if (pending === 0 || Date.now() > deadline) break;
    await sleep(250);
  }

  const problems: string[] = [];
  const all = new Map<string, string>();
  let resumedDeploys = 0;
  for (const d of deployments) {
    const events = logs.get(d) ?? [];
    problems.push(...eventLogProblems(events).map((p) => `${d}: ${p}`));
    const view = events.length > 0 ? await api.get(d) : null;
    if (view && view.seq !== events.length) problems.push(`${d}: view seq ${view.seq} but ${events.length} events`);
    const states = syncStates(events);
    for (const [s, st] of states) all.set(s, st);

    // Activations: one per sync per service life, none outside the sync's deploying window.
    const acts = (await readActivations(join(dataDir, "targets", "acme", d))).filter((a) => a.what === "start");
    const enteredDeploying = new Map(events.filter((e) => e.type === "sync.state" && e.data.to === "deploying").map((e) => [e.sync ?? "", Date.parse(e.at)]));
    const finishedAt = new Map(events.filter((e) => e.type === "sync.finished").map((e) => [e.sync ?? "", Date.parse(e.at)]));
    const seen = new Set<string>();
    const epochsOf = new Map<string, Set<string>>();
    for (const a of acts) epochsOf.set(a.sync, (epochsOf.get(a.sync) ?? new Set()).add(a.epoch));
    resumedDeploys += [...epochsOf.values()].filter((e) => e.size > 1).length;
    for (const a of acts) {
      const key = `${a.sync}@${a.epoch}`;
      if (seen.has(key)) problems.push(`${d}: ${a.sync} activated twice in service life ${a.epoch}`);
      seen.add(key);
      const from = enteredDeploying.get(a.sync);
      const to = finishedAt.get(a.sync);
      if (from === undefined) problems.push(`${d}: ${a.sync} activated but never entered deploying (final state ${states.get(a.sync)})`);
      else if (a.atMs < from - 5) problems.push(`${d}: ${a.sync} activated before it entered deploying`);
      if (to !== undefined && a.atMs > to + 5) problems.push(`${d}: ${a.sync} activated after it finished (${states.get(a.sync)})`);
    }
    for (const [s, st] of states) {
      if (st === "succeeded" && events.some((e) => e.sync === s && e.type === "sync.queued" && e.data.kind === "apply") && !acts.some((a) => a.sync === s)) {
        problems.push(`${d}: ${s} succeeded without an activation`);
      }
    }

    // The target shows the last successful apply (or nothing after a teardown).
    let live: string | null = null;
    const kinds = new Map(events.filter((e) => e.type === "sync.queued").map((e) => [e.sync ?? "", String(e.data.kind)]));
    for (const e of events) {
      if (e.type === "sync.finished" && e.data.state === "succeeded") live = kinds.get(e.sync ?? "") === "teardown" ? null : e.sync;
    }
    const m = await readMarker(join(dataDir, "targets", "acme", d));
    if ((m?.sync ?? null) !== live) problems.push(`${d}: marker shows ${m?.sync ?? "nothing"}, last successful apply is ${live ?? "none (or torn down)"}`);
  }

  for (const [s, st] of all) if (!(terminalStates as readonly string[]).includes(st)) problems.push(`unfinished: sync ${s} is ${st}`);
  const lost = requests.filter((r) => r.sync === null || !(terminalStates as readonly string[]).includes(all.get(r.sync) ?? ""));
  for (const r of lost) problems.push(`lost: request ${r.requestId} (${r.deployment}) → sync ${r.sync} in state ${r.sync ? all.get(r.sync) : "never answered"}`);
  const failed = [...all].filter(([, st]) => st === "failed" || st === "timed_out");
  for (const [s, st] of failed) {
    const d = deployments.find((x) => syncStates(logs.get(x) ?? []).has(s)) ?? "?";
    const fin = (logs.get(d) ?? []).find((e) => e.sync === s && e.type === "sync.finished");
    problems.push(`${d}: ${s} ${st}: ${JSON.stringify(fin?.data.error)}`);
  }

  const summary = {
    seed,
    requests: requests.length,
    syncs: all.size,
    byState: [...all.values()].reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {}),
    resumedDeploys,
    startMs: { min: Math.min(...started), max: Math.max(...started) },
  };
  console.log(`kill-restart: ${JSON.stringify(summary)}`);
  api.close();
  await current?.stop();
  current = null;
  expect(problems).toEqual([]);
  expect(requests.length).toBeGreaterThan(kills);
});
