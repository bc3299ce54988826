/**
 * rio.admin.AdminService (the in-scope RPCs): ClusterStatus, ListBuilds, GetBuildLogs,
 * GetBuildGraph, ListTenants, CreateTenant. ListBuilds and GetBuildGraph read the durable rows,
 * so they keep answering after a build was forgotten from memory.
 */
import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { AdminService } from "../../generated/admin_pb.js";
import { AppError } from "../errors.js";
import { decodeCursor, encodeCursor } from "./build-cursor.js";
import { isUuid } from "./ids.js";
import { readStoredLog } from "./nix-realise.js";
import type { BuildStateName, TenantRow } from "./state-db.js";
import { checkBuildId, toBuildState, type ServiceDeps } from "./scheduler-service.js";
import { normalizeTenantName } from "./validate-submit.js";

const logChunkLines = 256;
const graphNodeCap = 5000;
const statusFilters: readonly BuildStateName[] = ["pending", "active", "succeeded", "failed", "cancelled"];
const maxI32 = 2 ** 31 - 1;
const maxI64 = 2n ** 63n - 1n;

function tenantInfo(t: TenantRow) {
  return {
    tenantId: t.tenant_id,
    tenantName: t.tenant_name,
    gcRetentionHours: t.gc_retention_hours,
    gcMaxStoreBytes: t.gc_max_store_bytes ?? undefined,
    createdAt: timestampFromMs(Math.floor(t.created_at / 1000) * 1000),
    hasCacheToken: t.cache_token !== null,
  };
}

export function createAdminService(deps: ServiceDeps & { startedAt: number; maxJobs: number }): ServiceImpl<typeof AdminService> {
  return {
    clusterStatus() {
      const c = deps.coordinator().clusterCounts();
      return {
        totalExecutors: deps.maxJobs,
        activeExecutors: deps.maxJobs,
        drainingExecutors: 0,
        pendingBuilds: c.pendingBuilds,
        activeBuilds: c.activeBuilds,
        queuedDerivations: c.readyDerivations,
        runningDerivations: c.runningDerivations,
        storeSizeBytes: 0n,
        uptimeSince: timestampFromMs(deps.startedAt),
        queuedFodDerivations: 0,
        queuedBySystem: { ...c.readyBySystem },
      };
    },

    listBuilds(req) {
      const limit = Math.min(1000, Math.max(1, req.limit === 0 ? 100 : req.limit));
      let state: string | undefined;
      if (req.statusFilter !== "") {
        if (!statusFilters.includes(req.statusFilter as BuildStateName)) {
          throw new AppError("invalid_argument", `invalid status_filter: ${req.statusFilter}`);
        }
        state = req.statusFilter;
      }
      // A blank or malformed name means no filter, as in rio (NormalizedName::from_maybe_empty).
      let tenantId: string | undefined;
      const tenant = normalizeTenantName(req.tenantFilter);
      if (tenant.ok) {
        const t = deps.db.tenantByName(tenant.name);
        if (!t) throw new AppError("invalid_argument", `unknown tenant: ${tenant.name}`);
        tenantId = t.tenant_id;
      }
      // A cursor that is set, even to "", is decoded (rio: "" is a bad cursor, not the first page).
      const after = req.cursor !== undefined ? decodeCursor(req.cursor) : undefined;
      const { rows, total } = deps.db.listBuilds({ state, tenantId, limit, offset: req.offset, after });
      const coordinator = deps.coordinator();
      const last = rows[rows.length - 1];
      return {
        builds: rows.map((r) => {
          const live = coordinator.status(r.build_id);
          return {
            buildId: r.build_id,
            tenantId: r.tenant_id ?? "",
            priorityClass: r.priority_class,
            state: toBuildState(live?.state ?? r.state),
            totalDerivations: live?.counts.total ?? r.total,
            completedDerivations: live?.counts.completed ?? r.completed,
            cachedDerivations: live?.counts.cached ?? r.cached,
            errorSummary: live?.errorSummary ?? r.error_summary,
          };
        }),
        totalCount: after ? 0 : total,
        nextCursor: rows.length === limit && last ? encodeCursor(last.submitted_at, last.build_id) : undefined,
      };
    },

    async *getBuildLogs(req) {
      const path = req.derivationPath;
      if (path === "") throw new AppError("invalid_argument", "derivation_path is required");
      if (req.buildId !== "" && !isUuid(req.buildId)) throw new AppError("invalid_argument", "invalid build_id");
      const since = Number(req.sinceLine);
      const snap = deps.coordinator().liveLog(path, since);
      if (snap && snap.lines.length > 0) {
        for (let i = 0; i < snap.lines.length; i += logChunkLines) {
          yield { derivationPath: path, lines: snap.lines.slice(i, i + logChunkLines), firstLineNumber: BigInt(snap.first + i), isComplete: false };
        }
        return;
      }
      if (req.buildId === "") throw new AppError("not_found", `no live log for ${path} and no build_id given`);
      const log = await readStoredLog(path);
      if (!log) throw new AppError("not_found", `no stored log for ${path}`);
      const text = log.toString("latin1");
      const all = text === "" ? [] : text.replace(/\n$/, "").split("\n");
      const lines = all.slice(since).map((l) => Buffer.from(l, "latin1"));
      if (lines.length === 0) {
        yield { derivationPath: path, lines: [], firstLineNumber: BigInt(since), isComplete: true };
        return;
      }
      for (let i = 0; i < lines.length; i += logChunkLines) {
        yield {
          derivationPath: path,
          lines: lines.slice(i, i + logChunkLines),
          firstLineNumber: BigInt(since + i),
          isComplete: i + logChunkLines >= lines.length,
        };
      }
    },

    getBuildGraph(req) {
      checkBuildId(req.buildId);
      const nodes = deps.db.graphNodesOf(req.buildId, graphNodeCap);
      const total = deps.db.countNodes(req.buildId);
      const kept = new Set(nodes.map((n) => n.drv_path));
      const edges = deps.db.edgesOf(req.buildId).filter((e) => kept.has(e.parent) && kept.has(e.child));
      return {
        nodes: nodes.map((n) => ({
          drvPath: n.drv_path,
          pname: n.pname,
          system: n.system,
          status: n.status,
          assignedExecutorId: n.executor,
        })),
        edges: edges.map((e) => ({ parentDrvPath: e.parent, childDrvPath: e.child })),
        truncated: total > nodes.length,
        totalNodes: total,
      };
    },

    listTenants() {
      return { tenants: deps.db.listTenants().map(tenantInfo) };
    },

    // rio's admin/tenants.rs create_tenant: its checks, in its order, with its texts.
    createTenant(req) {
      const n = normalizeTenantName(req.tenantName);
      if (!n.ok) throw new AppError("invalid_argument", `invalid tenant_name: ${n.reason}`);
      const cacheToken = req.cacheToken?.trim();
      if (cacheToken === "") throw new AppError("invalid_argument", "cache_token must not be empty string (omit field for none)");
      if (req.gcRetentionHours !== undefined && req.gcRetentionHours > maxI32) {
        throw new AppError("invalid_argument", "gc_retention_hours out of range (max 2^31-1)");
      }
      if (req.gcMaxStoreBytes !== undefined && req.gcMaxStoreBytes > maxI64) {
        throw new AppError("invalid_argument", "gc_max_store_bytes out of range (max 2^63-1)");
      }
      if (deps.db.tenantByName(n.name) || (cacheToken !== undefined && deps.db.tenantByToken(cacheToken))) {
        throw new AppError("conflict", `tenant '${n.name}' already exists (or cache_token collision)`);
      }
      const row: TenantRow = {
        tenant_id: randomUUID(),
        tenant_name: n.name,
        gc_retention_hours: req.gcRetentionHours ?? 168,
        gc_max_store_bytes: req.gcMaxStoreBytes ?? null,
        cache_token: cacheToken ?? null,
        created_at: Date.now(),
      };
      deps.db.insertTenant(row);
      return { tenant: tenantInfo(row) };
    },
  };
}
