/**
 * rio forgets a build 60 s after it ends (or on a failover that lost it). ListBuilds, backed by
 * rio's database, still knows how it ended; it has no lookup by id, so page through the tenant's
 * builds (newest first) until the id shows up.
 */
import { AppError } from "../errors.js";
import type { BuildState, RioClient } from "../rio/index.js";

const maxPages = 50;

export async function settleForgottenBuild(rio: RioClient, buildId: string, tenant: string): Promise<BuildState | "unknown"> {
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    let result;
    try {
      result = await rio.listBuilds({ tenant, limit: 1000, ...(cursor ? { cursor } : {}) });
    } catch (err) {
      // An unknown tenant filter means rio has no build of this tenant at all.
      if (AppError.is(err, "invalid_argument")) return "unknown";
      throw err;
    }
    const found = result.builds.find((b) => b.buildId === buildId);
    if (found) return found.state;
    if (!result.nextCursor) return "unknown";
    cursor = result.nextCursor;
  }
  return "unknown";
}
