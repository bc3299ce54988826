/**
 * Recovery of the one window the store cannot close: rio accepted a build (its id is in the
 * response header) but the service died before writing that id down. rio has no idempotency key,
 * so on the next run the sync looks for a live build of its tenant that no sync recorded, with the
 * same priority class and exactly the same derivations, and adopts it instead of submitting a
 * second one (which would leave the first running until rio's 5-minute orphan cancel).
 */
import type { Logger } from "pino";
import type { BuildDag } from "../core/dag.js";
import { AppError } from "../errors.js";
import type { FollowOutcome, RioClient, RioEvent } from "../rio/index.js";
import type { Store, SyncRecord } from "../store/index.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";
import type { SyncRunDeps } from "./sync-deps.js";

const maxPages = 10;

/** Adopts and follows the build a crash left unrecorded, if there is one; null when there is none. */
export async function adoptBuild(
  deps: SyncRunDeps,
  record: SyncRecord,
  dag: BuildDag,
  signal: AbortSignal,
  onEvent: (e: RioEvent) => void,
  log: Logger,
): Promise<FollowOutcome | null> {
  const adopted = await retryWhileUnavailable(() => findUnrecordedBuild(deps.rio, deps.store, record, dag), signal);
  if (adopted === null) return null;
  deps.store.recordBuildSubmitted(record.id, adopted);
  deps.metrics?.rioBuildsAdopted.inc();
  log.info({ buildId: adopted }, "adopted the build submitted before the restart (its id had not been stored)");
  return deps.rio.follow(adopted, { since: 0, signal, onEvent });
}

export async function findUnrecordedBuild(rio: RioClient, store: Store, record: SyncRecord, dag: BuildDag): Promise<string | null> {
  const wanted = new Set(dag.nodes.map((n) => n.drvPath));
  for (const status of ["active", "pending"] as const) {
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      let result;
      try {
        result = await rio.listBuilds({ tenant: record.tenant, status, limit: 1000, ...(cursor ? { cursor } : {}) });
      } catch (err) {
        if (AppError.is(err, "invalid_argument")) return null; // rio does not know the tenant: nothing to adopt
        throw err;
      }
      for (const b of result.builds) {
        if (b.priorityClass !== record.priority || store.syncOfBuild(b.buildId) !== null) continue;
        const graph = await rio.buildGraph(b.buildId).catch(() => null);
        if (graph === null || graph.truncated || graph.nodes.length !== wanted.size) continue;
        if (graph.nodes.every((n) => wanted.has(n.drvPath))) return b.buildId;
      }
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
  }
  return null;
}
