/**
 * The build phase of an apply: find the rio build to follow — the recorded one (re-attach from the
 * stored sequence), one a crash left unrecorded (adopt-build.ts), or a new one (submit-build.ts) —
 * record its events until it ends (build-recorder.ts), and turn its ending into success or a
 * SyncFailure (build-outcome.ts). The phase has a deadline; when it passes, the rio build is
 * cancelled and the sync times out.
 */
import type { Logger } from "pino";
import type { BuildDag } from "../core/dag.js";
import type { BuildCounters } from "../core/index.js";
import { AppError } from "../errors.js";
import type { FollowOutcome, RioEvent } from "../rio/index.js";
import { explainUndispatched } from "../rio/index.js";
import type { SyncRecord } from "../store/index.js";
import { adoptBuild } from "./adopt-build.js";
import { endOfBuild } from "./build-outcome.js";
import { createBuildRecorder } from "./build-recorder.js";
import { submitBuild } from "./submit-build.js";
import type { SyncRunDeps } from "./sync-deps.js";
import { fail } from "./sync-failure.js";

/**
 * Builds `dag` (for a sync that already has a build id, `dag` is not needed: it re-attaches).
 * `signal` fires when the sync is cancelled or superseded.
 */
export async function runBuildPhase(
  deps: SyncRunDeps,
  record: SyncRecord,
  dag: BuildDag | null,
  pnames: ReadonlyMap<string, string>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const deadline = startDeadline(deps.timeouts.buildMs, signal);
  let recordError: unknown = null;
  const recorder = createBuildRecorder(
    deps.store,
    record.id,
    pnames,
    (err) => {
      recordError ??= err;
    },
    recordedCounters(deps, record),
  );
  try {
    const outcome = await followBuild(deps, record, dag, signal, deadline.signal, (e) => recorder.record(e), log);
    recorder.flush();
    if (recordError) throw recordError;
    await endOfBuild(deps, record, outcome, recorder.lastFailure);
  } catch (err) {
    if (deadline.passed()) {
      // Asked before the cancel: what the build still waited for says why it ran out of time.
      const buildId = deps.store.getSyncRecord(record.id).buildId;
      const why = buildId === null ? null : await explainUndispatched(deps.rio, buildId);
      await cancelRioBuild(deps, record.id, "timeout", log);
      throw fail("timeout", `build exceeded ${deps.timeouts.buildMs / 1000} s${why ? `: ${why}` : ""}`);
    }
    throw err;
  } finally {
    deadline.clear();
    recorder.flush();
  }
}

/** A re-attached build continues from the counters already recorded (its BuildStarted is not replayed). */
function recordedCounters(deps: SyncRunDeps, record: SyncRecord): BuildCounters | null {
  if (record.buildId === null) return null;
  const build = deps.store.getSync(record.tenant, record.deployment, record.id).build;
  if (!build) return null;
  const { build_id: _buildId, ...counters } = build;
  return counters;
}

async function followBuild(
  deps: SyncRunDeps,
  record: SyncRecord,
  dag: BuildDag | null,
  interrupted: AbortSignal,
  signal: AbortSignal,
  onEvent: (e: RioEvent) => void,
  log: Logger,
): Promise<FollowOutcome> {
  if (record.buildId !== null) {
    log.info({ buildId: record.buildId, since: record.rioSequence }, "re-attaching to build");
    return deps.rio.follow(record.buildId, { since: record.rioSequence, signal, onEvent });
  }
  if (!dag) throw new AppError("internal", "a build without a build id needs its derivation graph");
  const adopted = record.submitAttempted ? await adoptBuild(deps, record, dag, signal, onEvent, log) : null;
  return adopted ?? submitBuild(deps, record, dag, interrupted, signal, onEvent, log);
}

/** A signal that fires with `signal` or after `ms`; `passed()` tells whether the deadline (not `signal`) fired. */
function startDeadline(ms: number, signal: AbortSignal) {
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), ms);
  return {
    signal: AbortSignal.any([signal, timer.signal]),
    passed: () => timer.signal.aborted && !signal.aborted,
    clear: () => clearTimeout(timeout),
  };
}

async function cancelRioBuild(deps: SyncRunDeps, syncId: string, reason: string, log: Logger): Promise<void> {
  const buildId = deps.store.getSyncRecord(syncId).buildId;
  if (!buildId) return;
  await deps.rio.cancel(buildId, reason).catch((err: unknown) => log.warn({ err: AppError.from(err).message }, "cancel of rio build failed"));
}
