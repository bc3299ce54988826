/**
 * Recovery of the one window the store cannot close: rio accepted a build (its id is in the
 * response header) but the service died before writing that id down. rio has no idempotency key,
 * so on the next run the sync looks for a live build of its tenant that no sync recorded, with the
 * same priority class and exactly the same derivations, and adopts it instead of submitting a
 * second one (which would leave the first running until rio's 5-minute orphan cancel).
 */
import type { BuildDag } from "../core/dag.js";
import { AppError } from "../errors.js";
import type { RioClient } from "../rio/index.js";
import type { Store, SyncRecord } from "../store/index.js";

const maxPages = 10;

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
