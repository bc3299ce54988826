/** Sync ids: ULIDs from a monotonic factory, so ids made in one process sort in creation order. */
import { monotonicFactory } from "ulid";

export function createSyncIdGenerator(): () => string {
  const next = monotonicFactory();
  return () => next();
}
