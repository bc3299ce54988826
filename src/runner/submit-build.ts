/**
 * Hands a sync's derivation graph to rio and follows the new build. The attempt is stored before the
 * submit (after a crash in between, the next run adopts the build instead of submitting a second
 * one, see adopt-build.ts) and the build id right after rio's answer.
 */
import type { Logger } from "pino";
import type { BuildDag } from "../core/dag.js";
import type { FollowOutcome, RioEvent } from "../rio/index.js";
import type { SyncRecord } from "../store/index.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";
import type { SyncRunDeps } from "./sync-deps.js";

export async function submitBuild(
  deps: SyncRunDeps,
  record: SyncRecord,
  dag: BuildDag,
  /** The sync's own signal: fired when it was cancelled or superseded. */
  interrupted: AbortSignal,
  /** Fires on `interrupted` or at the build deadline. */
  signal: AbortSignal,
  onEvent: (e: RioEvent) => void,
  log: Logger,
): Promise<FollowOutcome> {
  if (deps.copyInputs) await deps.copyInputs(dag, record.tenant, signal);
  await retryWhileUnavailable(() => deps.ensureTenant(record.tenant), signal);
  deps.store.recordSubmitAttempt(record.id);
  const submitted = await deps.rio.submit(
    {
      dag,
      tenant: record.tenant,
      priority: record.priority,
      buildTimeoutSecs: Math.ceil(deps.timeouts.buildMs / 1000),
    },
    { signal },
  );
  // Durable before anything else: after a crash from here on, the build is re-attached, never resubmitted.
  try {
    deps.store.recordBuildSubmitted(record.id, submitted.buildId);
  } catch (err) {
    // Superseded or cancelled while the submit was on its way: the interrupt found no build id
    // to cancel, so cancel the build here rather than leave it to rio's orphan timeout.
    submitted.close();
    await deps.rio.cancel(submitted.buildId, interrupted.aborted ? "interrupted" : "not recorded").catch(() => false);
    throw err;
  }
  log.info({ buildId: submitted.buildId }, "build submitted");
  return submitted.follow({ signal, onEvent });
}
