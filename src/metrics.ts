/**
 * Prometheus metrics of the service (prom-client), on a registry of its own so several services in
 * one test process don't collide. Counts only: no label ever carries a configuration value or a
 * secret, and tenant/deployment ids stay out of labels to keep cardinality bounded.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type SyncCounts = Readonly<Record<string, number>>;

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly phaseDuration: Histogram<"phase" | "outcome">;
  readonly rioReattaches: Counter;
  readonly rioBuildsAdopted: Counter;
  readonly eventsPublished: Counter;
  readonly eventsStored: Counter;
  readonly logFollows: Gauge;
  readonly wampSessions: Gauge;
  /** Webhook delivery attempts by outcome: delivered, retry (failed, will be tried again), failed (given up). */
  readonly webhookAttempts: Counter<"outcome">;
  /** Reads the live sync counts at scrape time. */
  setSyncCountSource(read: () => SyncCounts): void;
  setSessionCountSource(read: () => number): void;
}

export function createServiceMetrics(): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fediversity_process_" });
  let readSyncCounts: () => SyncCounts = () => ({});
  let readSessions: (() => number) | null = null;

  new Gauge({
    name: "fediversity_syncs",
    help: "Syncs by state (terminal states count what is kept in the store).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(readSyncCounts())) this.set({ state }, n);
    },
  });
  const phaseDuration = new Histogram({
    name: "fediversity_sync_phase_seconds",
    help: "Time spent per sync phase (evaluating, building, deploying, destroying).",
    labelNames: ["phase", "outcome"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const rioReattaches = new Counter({
    name: "fediversity_rio_reattaches_total",
    help: "WatchBuild re-attachments after a lost or ended stream.",
    registers: [registry],
  });
  const rioBuildsAdopted = new Counter({
    name: "fediversity_rio_builds_adopted_total",
    help: "Builds rio accepted before a crash and adopted on recovery (their ids had not been stored).",
    registers: [registry],
  });
  const eventsPublished = new Counter({
    name: "fediversity_events_published_total",
    help: "Domain events published on WAMP topics (after being stored).",
    registers: [registry],
  });
  const eventsStored = new Counter({
    name: "fediversity_events_stored_total",
    help: "Domain events written to the event log.",
    registers: [registry],
  });
  const logFollows = new Gauge({
    name: "fediversity_log_follows",
    help: "build.logs calls with follow: true being served now (each ends with its sync, its caller, or the API).",
    registers: [registry],
  });
  const wampSessions = new Gauge({
    name: "fediversity_wamp_sessions",
    help: "Open WAMP sessions on the embedded router.",
    registers: [registry],
    collect() {
      if (readSessions) this.set(readSessions());
    },
  });

  const webhookAttempts = new Counter({
    name: "fediversity_webhook_attempts_total",
    help: "Webhook delivery attempts by outcome (delivered, retry, failed).",
    labelNames: ["outcome"],
    registers: [registry],
  });

  return {
    registry,
    phaseDuration,
    rioReattaches,
    rioBuildsAdopted,
    eventsPublished,
    eventsStored,
    logFollows,
    wampSessions,
    webhookAttempts,
    setSyncCountSource(read) {
      readSyncCounts = read;
    },
    setSessionCountSource(read) {
      readSessions = read;
    },
  };
}
