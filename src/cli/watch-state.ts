/**
 * `watch` as pure functions: (state, event) → state, (state, log batch) → state, and
 * render(state) → lines, in the manner of nix-output-monitor.
 */
import {
  isTerminalSyncState,
  type BuildCounters,
  type DeploymentEvent,
  type DeploymentView,
  type LogBatch,
  type SyncView,
} from "../core/index.js";

export interface RunningDerivation {
  readonly drv: string;
  readonly pname: string;
  /** `building`, `substituting`, or the event's own phase. */
  readonly phase: string;
  readonly since: string;
}

export interface WatchState {
  readonly tenant: string;
  readonly deployment: string;
  /** The sync being watched; null until one is known. */
  readonly sync: string | null;
  readonly kind: string | null;
  readonly syncState: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly lastSeq: number;
  readonly buildId: string | null;
  readonly counters: BuildCounters | null;
  readonly running: readonly RunningDerivation[];
  readonly failed: readonly { drv: string; pname: string; error: string | null }[];
  readonly deploy: "pending" | "running" | "done" | "failed";
  /** The last lines of deploy output (and build output of failed derivations). */
  readonly output: readonly string[];
  readonly error: { code: string; message: string; derivation: string | null } | null;
  readonly supersededBy: string | null;
  readonly deploymentState: string | null;
  readonly generation: number | null;
}

export const maxOutputLines = 12;

export function initialWatchState(tenant: string, deployment: string, sync: string | null = null): WatchState {
  return {
    tenant,
    deployment,
    sync,
    kind: null,
    syncState: null,
    startedAt: null,
    finishedAt: null,
    lastSeq: 0,
    buildId: null,
    counters: null,
    running: [],
    failed: [],
    deploy: "pending",
    output: [],
    error: null,
    supersededBy: null,
    deploymentState: null,
    generation: null,
  };
}

/** The sync `watch` follows when none was named: the running one, else the next queued, else the last. */
export function pickSync(view: DeploymentView): SyncView | null {
  return view.current ?? view.queue?.[0] ?? view.last ?? null;
}

/** Seeds the state from `deployment.get` (its seq becomes the replay point). */
export function seedFromView(state: WatchState, view: DeploymentView, syncId: string | null): WatchState {
  const candidates = [view.current, ...(view.queue ?? []), view.last].filter((s): s is SyncView => s !== null);
  const sync = syncId === null ? pickSync(view) : (candidates.find((s) => s.sync === syncId) ?? null);
  const base: WatchState = {
    ...state,
    lastSeq: Math.max(state.lastSeq, view.seq),
    deploymentState: view.state,
    generation: view.generation,
    sync: sync?.sync ?? syncId,
  };
  return sync ? applySyncView(base, sync) : base;
}

function applySyncView(state: WatchState, s: SyncView): WatchState {
  return {
    ...state,
    kind: s.kind,
    syncState: s.state,
    startedAt: s.started_at,
    finishedAt: s.finished_at,
    buildId: s.build?.build_id ?? state.buildId,
    counters: s.build ? countersOf(s.build) : state.counters,
    error: s.error,
    supersededBy: s.superseded_by,
    deploy: s.state === "deploying" || s.state === "destroying" ? "running" : s.state === "succeeded" ? "done" : state.deploy,
  };
}

function countersOf(b: Partial<BuildCounters>): BuildCounters {
  const n = (v: unknown) => (typeof v === "number" ? v : 0);
  return {
    total: n(b.total),
    completed: n(b.completed),
    cached: n(b.cached),
    running: n(b.running),
    failed: n(b.failed),
    queued: n(b.queued),
    critical_path_remaining_secs: typeof b.critical_path_remaining_secs === "number" ? b.critical_path_remaining_secs : null,
  };
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function pushOutput(output: readonly string[], lines: readonly string[]): readonly string[] {
  if (lines.length === 0) return output;
  return [...output, ...lines].slice(-maxOutputLines);
}

export function isFinished(state: WatchState): boolean {
  return state.syncState !== null && isTerminalSyncState(state.syncState);
}

/** 0 when the watched sync succeeded, 1 for any other terminal state. */
export function exitCodeOf(state: WatchState): number {
  return state.syncState === "succeeded" ? 0 : 1;
}

/** Applies one event (already de-duplicated and in seq order). */
export function reduceEvent(state: WatchState, event: DeploymentEvent): WatchState {
  const next = { ...state, lastSeq: Math.max(state.lastSeq, event.seq) };
  const data = event.data ?? {};
  if (event.type === "deployment.state") {
    const generation = typeof data["generation"] === "number" ? data["generation"] : next.generation;
    return { ...next, deploymentState: str(data["to"]) ?? next.deploymentState, generation };
  }
  // Adopt the first sync seen when none is being watched yet.
  const watched = next.sync ?? (event.type === "sync.queued" ? event.sync : null);
  if (event.sync === null || event.sync !== watched) return next;
  const own: WatchState = { ...next, sync: watched };
  switch (event.type) {
    case "sync.queued":
      return { ...own, syncState: own.syncState ?? "queued", kind: str(data["kind"]) ?? own.kind };
    case "sync.state": {
      const to = str(data["to"]) ?? own.syncState;
      const startedAt = own.startedAt ?? (to !== "queued" ? event.at : null);
      const deploy = to === "deploying" || to === "destroying" ? "running" : own.deploy;
      return { ...own, syncState: to, startedAt, deploy };
    }
    case "sync.superseded":
      return { ...own, supersededBy: str(data["by"]), syncState: "superseded", finishedAt: event.at, running: [] };
    case "sync.finished": {
      const err = data["error"];
      const error =
        typeof err === "object" && err !== null
          ? {
              code: str((err as Record<string, unknown>)["code"]) ?? "internal",
              message: str((err as Record<string, unknown>)["message"]) ?? "",
              derivation: str((err as Record<string, unknown>)["derivation"]),
            }
          : own.error;
      const finalState = str(data["state"]) ?? own.syncState;
      const deploy = finalState === "succeeded" ? "done" : own.deploy === "running" ? "failed" : own.deploy;
      return { ...own, syncState: finalState, error, finishedAt: event.at, running: [], deploy };
    }
    case "build.submitted":
      return { ...own, buildId: str(data["build_id"]) ?? own.buildId };
    case "build.started":
      return { ...own, counters: countersOf({ ...own.counters, total: data["total"] as number, cached: data["cached"] as number }) };
    case "build.progress":
      return { ...own, counters: countersOf({ ...own.counters, ...(data as Partial<BuildCounters>) }) };
    case "derivation": {
      const drv = str(data["drv"]) ?? "?";
      const pname = str(data["pname"]) ?? drv;
      const kind = str(data["kind"]) ?? "";
      const others = own.running.filter((r) => r.drv !== drv);
      if (kind === "started" || kind === "substituting") {
        const phase = str(data["phase"]) ?? (kind === "started" ? "building" : "substituting");
        return { ...own, running: [...others, { drv, pname, phase, since: event.at }] };
      }
      if (kind === "failed") {
        const error = str(data["error"]);
        return { ...own, running: others, failed: [...own.failed, { drv, pname, error }] };
      }
      return { ...own, running: others };
    }
    case "deploy.started":
      return { ...own, deploy: "running" };
    case "deploy.finished": {
      const ok = data["ok"] === false || data["error"] ? "failed" : "done";
      return { ...own, deploy: ok };
    }
    default:
      return own;
  }
}

/** Keeps the last lines of the watched sync's output. */
export function reduceLogs(state: WatchState, batch: LogBatch): WatchState {
  if (batch.sync !== state.sync) return state;
  return { ...state, output: pushOutput(state.output, batch.lines.map((l) => l.text)) };
}

export function formatDuration(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function secondsBetween(from: string, to: number): number | null {
  const t = Date.parse(from);
  return Number.isNaN(t) ? null : (to - t) / 1000;
}

/** The screen for the current state; `now` (ms) only feeds elapsed times. */
export function render(state: WatchState, now: number): string[] {
  const lines: string[] = [];
  const title = `${state.tenant}/${state.deployment}`;
  if (state.sync === null) {
    lines.push(`${title}: no sync to watch (deployment ${state.deploymentState ?? "unknown"})`);
    return lines;
  }
  const generation = state.generation !== null ? `, generation ${state.generation}` : "";
  lines.push(`${title}  sync ${state.sync}  ${state.kind ?? "apply"}  ${state.syncState ?? "waiting"}${generation}`);
  const c = state.counters;
  if (c) {
    const done = c.completed + c.cached;
    const eta = c.critical_path_remaining_secs !== null && !isFinished(state) ? `  ETA ${formatDuration(c.critical_path_remaining_secs)}` : "";
    lines.push(
      `  build  [${done}/${c.total}]  built ${c.completed}  cached ${c.cached}  running ${c.running}  queued ${c.queued}  failed ${c.failed}${eta}`,
    );
  }
  for (const r of state.running) {
    const elapsed = secondsBetween(r.since, now);
    lines.push(`    ⏵ ${r.pname}  ${r.phase}${elapsed !== null ? `  ${formatDuration(elapsed)}` : ""}`);
  }
  for (const f of state.failed) {
    lines.push(`    ✗ ${f.pname}  failed${f.error ? `: ${f.error}` : ""}`);
  }
  if (state.deploy !== "pending") lines.push(`  deploy ${state.deploy}`);
  for (const text of state.output) lines.push(`    │ ${text}`);
  if (isFinished(state)) {
    const took =
      state.startedAt && state.finishedAt
        ? ` in ${formatDuration((Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 1000)}`
        : "";
    let result = `  ${state.syncState === "succeeded" ? "✓" : "✗"} ${state.syncState}${took}`;
    if (state.supersededBy) result += ` (by ${state.supersededBy})`;
    if (state.error) result += `: ${state.error.code}: ${state.error.message}`;
    lines.push(result);
  }
  return lines;
}

/** Cuts lines to the terminal width so an in-place redraw moves up exactly one row per line. */
export function fitWidth(lines: readonly string[], columns: number | undefined): string[] {
  if (columns === undefined || columns < 10) return [...lines];
  return lines.map((l) => ([...l].length > columns ? [...l].slice(0, columns - 1).join("") + "…" : l));
}

/** One plain line per event of the watched sync (no TTY); null for events not worth a line. */
export function describeEvent(state: WatchState, event: DeploymentEvent): string | null {
  const d = event.data ?? {};
  const ctx = `${event.deployment}`;
  if (event.type === "deployment.state") return `${ctx}: deployment ${str(d["from"]) ?? "?"} → ${str(d["to"]) ?? "?"}`;
  if (event.sync !== state.sync) return null;
  switch (event.type) {
    case "sync.queued":
      return `${ctx}: sync ${event.sync} queued`;
    case "sync.state":
      return `${ctx}: ${str(d["from"]) ?? "?"} → ${str(d["to"]) ?? "?"}`;
    case "sync.superseded":
      return `${ctx}: superseded by ${str(d["by"]) ?? "?"}`;
    case "sync.finished": {
      const err = d["error"] as { code?: string; message?: string } | null | undefined;
      return `${ctx}: finished ${str(d["state"]) ?? "?"}${err ? `: ${err.code ?? ""}: ${err.message ?? ""}` : ""}`;
    }
    case "build.submitted":
      return `${ctx}: build ${str(d["build_id"]) ?? "?"} submitted`;
    case "build.started":
      return `${ctx}: building ${String(d["total"] ?? "?")} derivations (${String(d["cached"] ?? 0)} cached)`;
    case "build.progress": {
      const c = countersOf(d as Partial<BuildCounters>);
      const eta = c.critical_path_remaining_secs !== null ? `, ETA ${formatDuration(c.critical_path_remaining_secs)}` : "";
      return `${ctx}: [${c.completed + c.cached}/${c.total}] running ${c.running}, queued ${c.queued}, failed ${c.failed}${eta}`;
    }
    case "derivation":
      return `${ctx}: ${str(d["kind"]) ?? "?"} ${str(d["pname"]) ?? str(d["drv"]) ?? "?"}${d["error"] ? `: ${String(d["error"])}` : ""}`;
    case "deploy.started":
      return `${ctx}: deploy started`;
    case "deploy.finished":
      return `${ctx}: deploy finished`;
    default:
      return null;
  }
}
