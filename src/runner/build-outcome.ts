/**
 * How a followed rio build ended, as its sync sees it: returns when the build succeeded (also when
 * rio forgot it but ListBuilds says it succeeded), throws a SyncFailure for a failed, cancelled or
 * lost build, and AppError `cancelled` when the follow was aborted (the caller knows why).
 */
import { assertNever } from "../core/index.js";
import { AppError } from "../errors.js";
import type { FollowOutcome, RioClient, TerminalRioEvent } from "../rio/index.js";
import type { Store, SyncRecord } from "../store/index.js";
import { settleForgottenBuild } from "./settle-build.js";
import { fail } from "./sync-failure.js";

export interface LastFailure {
  readonly drv: string;
  readonly message: string;
}

export async function endOfBuild(
  deps: { readonly rio: RioClient; readonly store: Store },
  record: SyncRecord,
  outcome: FollowOutcome,
  lastFailure: LastFailure | null,
): Promise<void> {
  switch (outcome.type) {
    case "aborted":
      throw new AppError("cancelled", "build follow aborted");
    case "gone": {
      const buildId = deps.store.getSyncRecord(record.id).buildId ?? record.buildId ?? "";
      const settled = await settleForgottenBuild(deps.rio, buildId, record.tenant);
      if (settled === "succeeded") return;
      throw fail("scheduler_lost", `rio-build no longer knows build ${buildId} (${settled})`);
    }
    case "terminal":
      return endOfTerminal(outcome.event, lastFailure);
    default:
      return assertNever(outcome, "follow outcome");
  }
}

function endOfTerminal(event: TerminalRioEvent, lastFailure: LastFailure | null): void {
  switch (event.type) {
    case "completed":
      return;
    case "failed": {
      const drv = event.failedDerivation || lastFailure?.drv || null;
      if (/build_timeout/.test(event.errorMessage)) throw fail("timeout", event.errorMessage, drv);
      const detail = lastFailure && lastFailure.drv === drv && lastFailure.message ? `: ${lastFailure.message}` : "";
      throw fail("build_failed", `${event.errorMessage || "build failed"}${detail}`, drv);
    }
    case "cancelled":
      throw fail("scheduler_lost", `rio-build cancelled the build: ${event.reason || "no reason given"}`);
    default:
      return assertNever(event, "terminal rio event");
  }
}
