/**
 * Retention is an explicit sweep, never a side effect: nothing is deleted unless the operator
 * configured an age and something calls `sweepRetention`. Ages are in seconds; null keeps forever.
 * - `logsSecs`: log lines of terminal syncs finished longer ago are deleted (the sync stays;
 *   `log_first_line` moves to its end, so `build.logs` returns an empty, complete page).
 * - `syncsSecs`: terminal syncs finished longer ago are deleted with their log lines, except the
 *   deployment's `last` sync. Generations keep the id of the sync that produced them.
 * - `eventsSecs`: events older than that are deleted. Sequence numbers are never reused:
 *   `deployments.seq` keeps counting, and `deployment.events` simply starts at the oldest kept seq.
 *   Webhook deliveries settled (delivered or failed) longer ago go with them; pending ones stay.
 * Work is done in batches of `batchSize` rows per transaction so writers are never blocked long.
 */
import type { StoreContext } from "./context.js";

export interface RetentionSettings {
  readonly syncsSecs: number | null;
  readonly eventsSecs: number | null;
  readonly logsSecs: number | null;
}

export const keepEverything: RetentionSettings = Object.freeze({ syncsSecs: null, eventsSecs: null, logsSecs: null });

export interface SweepResult {
  readonly syncs: number;
  readonly events: number;
  readonly logLines: number;
  readonly deliveries: number;
}

export function sweepRetention(ctx: StoreContext, settings: RetentionSettings, batchSize = 5000): SweepResult {
  const nowMs = Date.parse(ctx.now());
  const cutoff = (secs: number) => new Date(nowMs - secs * 1000).toISOString();
  let syncs = 0;
  let events = 0;
  let logLines = 0;
  let deliveries = 0;

  if (settings.logsSecs !== null) {
    const before = cutoff(settings.logsSecs);
    for (;;) {
      const n = ctx.write(() => {
        const targets = ctx
          .stmt("SELECT n, log_next_line FROM syncs WHERE finished_at IS NOT NULL AND finished_at < ? AND log_first_line < log_next_line LIMIT ?")
          .all(before, Math.max(1, Math.floor(batchSize / 100))) as { n: number; log_next_line: number }[];
        for (const t of targets) {
          logLines += ctx.stmt("DELETE FROM log_lines WHERE sync_n = ?").run(t.n).changes;
          ctx.stmt("UPDATE syncs SET log_first_line = log_next_line WHERE n = ?").run(t.n);
        }
        return targets.length;
      });
      if (n === 0) break;
    }
  }

  if (settings.syncsSecs !== null) {
    const before = cutoff(settings.syncsSecs);
    for (;;) {
      const n = ctx.write(() => {
        const targets = ctx
          .stmt(
            `SELECT s.n FROM syncs s JOIN deployments d ON d.id = s.deployment_id
             WHERE s.finished_at IS NOT NULL AND s.finished_at < ? AND (d.last_sync IS NULL OR d.last_sync <> s.id) LIMIT ?`,
          )
          .all(before, Math.max(1, Math.floor(batchSize / 100))) as { n: number }[];
        for (const t of targets) {
          logLines += ctx.stmt("DELETE FROM log_lines WHERE sync_n = ?").run(t.n).changes;
          syncs += ctx.stmt("DELETE FROM syncs WHERE n = ?").run(t.n).changes;
        }
        return targets.length;
      });
      if (n === 0) break;
    }
  }

  if (settings.eventsSecs !== null) {
    const before = cutoff(settings.eventsSecs);
    for (;;) {
      const n = ctx.write(
        () =>
          ctx
            .stmt("DELETE FROM events WHERE (deployment_id, seq) IN (SELECT deployment_id, seq FROM events WHERE at < ? LIMIT ?)")
            .run(before, batchSize).changes,
      );
      events += n;
      if (n === 0) break;
    }
    for (;;) {
      const n = ctx.write(
        () =>
          ctx
            .stmt("DELETE FROM webhook_deliveries WHERE n IN (SELECT n FROM webhook_deliveries WHERE finished_at IS NOT NULL AND finished_at < ? LIMIT ?)")
            .run(before, batchSize).changes,
      );
      deliveries += n;
      if (n === 0) break;
    }
  }
  return { syncs, events, logLines, deliveries };
}
