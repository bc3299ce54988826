/**
 * submitSync: applies the core submit rules (core/submit.ts) atomically. Creates the deployment on
 * its first apply, supersedes per `replace`, inserts the new queued sync and writes the events.
 */
import { createHash } from "node:crypto";
import type { PriorityClass, StoredEvent, SubmitMode, SyncKind, SyncState } from "../core/index.js";
import { canonicalJson, configurationDepthViolation, configurationSizeViolation, decideSubmit, deploymentTypeRequired, newDeploymentFacts, requestIdViolation } from "../core/index.js";
import { AppError } from "../errors.js";
import type { StoreContext, WriteLog } from "./context.js";
import { storeError } from "./context.js";
import { appendEvents } from "./event-log.js";
import { findDeployment, positionOf, requireSync, saveDeploymentFacts, unfinishedBriefs } from "./lookups.js";
import { deploymentFactsOf, syncFactsOf, syncViewOf } from "./rows.js";
import type { DeploymentRow, SyncView } from "./rows.js";
import { updateSyncState } from "./sync-updates.js";

export interface SubmitSyncInput {
  readonly tenant: string;
  readonly deployment: string;
  /** Required when the deployment is new; otherwise defaults to (and, when given, replaces) the stored one. */
  readonly deploymentType?: string;
  readonly kind: SyncKind;
  /** Default `replace`. */
  readonly mode?: SubmitMode;
  /** Default `interactive`. */
  readonly priority?: PriorityClass;
  readonly requestId?: string;
  /** The configuration object of an apply; absent for a teardown and a rollback. */
  readonly configuration?: unknown;
  /** Makes an apply a rollback: re-apply a stored generation (default: the one before the live one). */
  readonly rollback?: { readonly generation?: number };
}

export interface InterruptedSync {
  readonly sync: string;
  readonly from: SyncState;
  /** Its rio build, to cancel (reason `superseded` or `cancelled`), if one was submitted. */
  readonly buildId: string | null;
}

export interface SubmitSyncResult {
  readonly sync: SyncView;
  /** Ids of the syncs this submit superseded (empty for enqueue and for a repeated request_id). */
  readonly superseded: string[];
  /** The superseded sync that was in flight (evaluating/building), if any: its runner must stop. */
  readonly interrupted: InterruptedSync[];
  /** False when a repeated request_id returned the first call's sync. */
  readonly created: boolean;
  readonly events: StoredEvent[];
}

export function configHashOf(canonical: string): string {
  return `sha256:${createHash("sha256").update(canonical).digest("hex")}`;
}

interface CheckedSubmit {
  readonly input: SubmitSyncInput;
  readonly mode: SubmitMode;
  readonly priority: PriorityClass;
  readonly requestId: string | null;
  readonly isRollback: boolean;
  readonly canonical: string | null;
  readonly configHash: string | null;
}

/** Validates a submit outside any transaction (hashing the configuration is the costly part). */
function checkSubmit(ctx: StoreContext, input: SubmitSyncInput): CheckedSubmit {
  const mode = input.mode ?? "replace";
  const priority = input.priority ?? "interactive";
  const requestId = input.requestId ?? null;
  const badRequestId = requestId === null ? null : requestIdViolation(requestId, ctx.limits);
  if (badRequestId) throw AppError.fromViolation(badRequestId);
  const isRollback = input.rollback !== undefined;
  if (input.kind === "teardown" && (input.configuration !== undefined || isRollback)) {
    throw new AppError("invalid_argument", "a teardown takes no configuration", [{ path: "configuration", message: "not allowed" }]);
  }
  let canonical: string | null = null;
  if (input.kind === "apply" && !isRollback) {
    if (input.configuration === undefined) {
      throw new AppError("invalid_argument", "an apply needs a configuration", [{ path: "configuration", message: "required" }]);
    }
    // Canonical JSON recurses: refuse hostile nesting before it runs (the API checks it too, but
    // the store does not rely on its callers).
    const tooDeep = configurationDepthViolation(input.configuration, ctx.limits);
    if (tooDeep) throw AppError.fromViolation(tooDeep);
    canonical = canonicalJson(input.configuration);
    const tooBig = configurationSizeViolation(Buffer.byteLength(canonical, "utf8"), ctx.limits);
    if (tooBig) throw AppError.fromViolation(tooBig);
  } else if (isRollback && input.configuration !== undefined) {
    throw new AppError("invalid_argument", "a rollback takes no configuration", [{ path: "configuration", message: "not allowed" }]);
  }
  const configHash = canonical === null ? null : configHashOf(canonical);
  return { input, mode, priority, requestId, isRollback, canonical, configHash };
}

/** Submits one sync: all submit rules in one transaction. */
export function submitSync(ctx: StoreContext, input: SubmitSyncInput): SubmitSyncResult {
  const checked = checkSubmit(ctx, input);
  return ctx.write((log) => submitInTransaction(ctx, log, checked, ctx.now()));
}

/** One item's outcome in `submitSyncs`. */
export type SubmitManyItem = { readonly ok: true; readonly result: SubmitSyncResult } | { readonly ok: false; readonly error: AppError };

/**
 * Submits several syncs in one transaction (one commit), e.g. everything the API received in one
 * event-loop turn. Each item is applied in order inside its own savepoint, so one refused item
 * (its AppError in `error`) changes nothing and does not affect the others.
 */
export function submitSyncs(ctx: StoreContext, inputs: readonly SubmitSyncInput[]): SubmitManyItem[] {
  const checked = inputs.map((input) => {
    try {
      return checkSubmit(ctx, input);
    } catch (err) {
      return storeError(err);
    }
  });
  return ctx.write((log) => {
    const at = ctx.now();
    return checked.map((c) => {
      if (c instanceof AppError) return { ok: false as const, error: c };
      const mark = log.events.length;
      try {
        return { ok: true as const, result: ctx.db.transaction(() => submitInTransaction(ctx, log, c, at))() };
      } catch (err) {
        log.events.length = mark; // the savepoint rolled these back
        return { ok: false as const, error: storeError(err) };
      }
    });
  });
}

function submitInTransaction(ctx: StoreContext, log: WriteLog, checked: CheckedSubmit, at: string): SubmitSyncResult {
  const { input, mode, priority, requestId, isRollback, canonical, configHash } = checked;
  let dep = findDeployment(ctx, input.tenant, input.deployment);
  const sameRequest =
    dep && requestId !== null
      ? ((ctx.stmt("SELECT id FROM syncs WHERE deployment_id = ? AND request_id = ?").get(dep.id, requestId) as { id: string } | undefined)?.id ?? null)
      : null;
  if (!dep) {
    if (input.kind === "teardown" || isRollback) throw new AppError("not_found", `no deployment ${input.deployment} for tenant ${input.tenant}`);
    if (!input.deploymentType) throw AppError.fromViolation(deploymentTypeRequired);
    dep = insertDeployment(ctx, input.tenant, input.deployment, input.deploymentType, at);
  }
  const deploymentType = input.deploymentType ?? dep.deployment_type;

  let rollbackGeneration: number | null = null;
  let rollbackHash: string | null = null;
  let rollbackConfig: string | null = null;
  // A repeated request_id changes nothing, so it needs no generation either.
  if (isRollback && sameRequest === null) {
    const wanted = input.rollback?.generation;
    const gen = (
      wanted !== undefined
        ? ctx.stmt("SELECT number, config_hash, configuration FROM generations WHERE deployment_id = ? AND number = ?").get(dep.id, wanted)
        : ctx
            .stmt("SELECT number, config_hash, configuration FROM generations WHERE deployment_id = ? AND number < ? ORDER BY number DESC LIMIT 1")
            .get(dep.id, dep.live_generation ?? Number.MAX_SAFE_INTEGER)
    ) as { number: number; config_hash: string; configuration: string } | undefined;
    if (!gen) {
      throw new AppError(
        "not_found",
        wanted !== undefined ? `deployment ${input.deployment} has no generation ${wanted}` : `deployment ${input.deployment} has no generation to roll back to`,
      );
    }
    rollbackGeneration = gen.number;
    rollbackHash = gen.config_hash;
    rollbackConfig = gen.configuration;
  }

  const id = ctx.newSyncId();
  const unfinished = unfinishedBriefs(ctx, dep.id);
  const decision = decideSubmit(
    { deployment: deploymentFactsOf(dep), nonTerminal: unfinished.map(syncFactsOf), sameRequest },
    { id, kind: input.kind, mode, priority, configHash: configHash ?? rollbackHash, rollbackGeneration },
    ctx.limits,
  );
  switch (decision.outcome) {
    case "existing": {
      const row = requireSync(ctx, decision.syncId);
      return { sync: syncViewOf(row, positionOf(ctx, row)), superseded: [], interrupted: [], created: false, events: [] };
    }
    case "rejected":
      throw new AppError(decision.code, decision.message);
    case "accepted":
      break;
    default:
      return decision satisfies never;
  }

  const interrupted: InterruptedSync[] = [];
  for (const s of decision.superseded) {
    const row = unfinished.find((u) => u.id === s.id);
    if (!row) throw new AppError("internal", `superseded sync ${s.id} is not unfinished`);
    updateSyncState(ctx, row, { to: "superseded", error: null, supersededBy: id }, at);
    if (row.state !== "queued") interrupted.push({ sync: row.id, from: row.state, buildId: row.build_id });
  }
  ctx
    .stmt(
      `INSERT INTO syncs (id, deployment_id, kind, mode, priority, state, request_id, deployment_type, config_hash,
         configuration, rollback_generation, submitted_at)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
    )
    .run(id, dep.id, input.kind, mode, priority, requestId, deploymentType, configHash ?? rollbackHash, canonical ?? rollbackConfig, rollbackGeneration, at);
  saveDeploymentFacts(ctx, dep.id, decision.deployment, at);
  if (deploymentType !== dep.deployment_type) ctx.stmt("UPDATE deployments SET deployment_type = ? WHERE id = ?").run(deploymentType, dep.id);
  const events = appendEvents(ctx, log, dep, decision.events, at);
  const view: SyncView = {
    sync: id,
    deployment: dep.name,
    tenant: dep.tenant,
    kind: input.kind,
    state: "queued",
    mode,
    priority,
    position: decision.position,
    submitted_at: at,
    started_at: null,
    finished_at: null,
    config_hash: configHash ?? rollbackHash,
    build: null,
    error: null,
    superseded_by: null,
  };
  return {
    sync: view,
    superseded: decision.superseded.map((s) => s.id),
    interrupted,
    created: true,
    events,
  };
}

function insertDeployment(ctx: StoreContext, tenant: string, name: string, deploymentType: string, at: string): DeploymentRow {
  const { state, liveGeneration, latestGeneration } = newDeploymentFacts;
  const r = ctx
    .stmt(
      `INSERT INTO deployments (tenant, name, deployment_type, state, live_generation, latest_generation, seq, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
    )
    .run(tenant, name, deploymentType, state, liveGeneration, latestGeneration, at, at);
  return {
    id: Number(r.lastInsertRowid),
    tenant,
    name,
    deployment_type: deploymentType,
    state,
    live_generation: liveGeneration,
    latest_generation: latestGeneration,
    seq: 0,
    last_sync: null,
    created_at: at,
    updated_at: at,
  };
}
