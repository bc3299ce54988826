/** Requests (domain → wire) and unary responses (wire → domain), apart from build events. */
import { create } from "@bufbuild/protobuf";
import type { ClusterStatusResponse, BuildInfo, TenantInfo } from "../../generated/admin_types_pb.js";
import { ListBuildsRequestSchema } from "../../generated/admin_types_pb.js";
import { SubmitBuildRequestSchema, type BuildStatus as PbBuildStatus, type SubmitBuildRequest } from "../../generated/build_types_pb.js";
import type { GetBuildGraphResponse } from "../../generated/dag_pb.js";
import { DerivationEdgeSchema, DerivationNodeSchema } from "../../generated/dag_pb.js";
import type {
  BuildGraph,
  BuildStatus,
  BuildSummary,
  ClusterStatus,
  ListBuildsQuery,
  SubmitRequest,
  Tenant,
} from "./types.js";
import { buildStateName, toNumber, toOptionalNumber, toRfc3339 } from "./wire-values.js";

const empty = new Uint8Array(0);

export function toSubmitBuildRequest(req: SubmitRequest): SubmitBuildRequest {
  return create(SubmitBuildRequestSchema, {
    priorityClass: req.priority ?? "",
    tenantName: req.tenant ?? "",
    keepGoing: req.keepGoing ?? false,
    buildTimeout: BigInt(req.buildTimeoutSecs ?? 0),
    maxSilentTime: BigInt(req.maxSilentTimeSecs ?? 0),
    buildCores: BigInt(req.buildCores ?? 0),
    nodes: req.dag.nodes.map((n) =>
      create(DerivationNodeSchema, {
        drvPath: n.drvPath,
        // rio keys its global DAG by drv_hash; the gateway uses the path, and so do we to share work.
        drvHash: n.drvPath,
        pname: n.pname,
        system: n.system,
        requiredFeatures: [...n.requiredFeatures],
        outputNames: [...n.outputNames],
        expectedOutputPaths: [...n.expectedOutputPaths],
        isFixedOutput: n.isFixedOutput,
        isContentAddressed: n.isContentAddressed,
        needsResolve: n.needsResolve,
        drvContent: n.drvContent ?? empty,
        inputSrcsNarSize: BigInt(n.inputSrcsNarSize ?? 0),
      }),
    ),
    edges: req.dag.edges.map((e) => create(DerivationEdgeSchema, { parentDrvPath: e.parent, childDrvPath: e.child })),
  });
}

export function toListBuildsRequest(q: ListBuildsQuery) {
  return create(ListBuildsRequestSchema, {
    statusFilter: q.status ?? "",
    tenantFilter: q.tenant ?? "",
    limit: q.limit ?? 0,
    // rio decodes a cursor that is set even when empty, and rejects "" as a bad cursor.
    ...(q.cursor ? { cursor: q.cursor } : {}),
  });
}

export function toBuildStatus(s: PbBuildStatus): BuildStatus {
  return {
    buildId: s.buildId,
    state: buildStateName(s.state),
    totalDerivations: s.totalDerivations,
    completedDerivations: s.completedDerivations,
    cachedDerivations: s.cachedDerivations,
    runningDerivations: s.runningDerivations,
    failedDerivations: s.failedDerivations,
    queuedDerivations: s.queuedDerivations,
    errorSummary: s.errorSummary,
    criticalPathRemainingSecs: toOptionalNumber(s.criticalPathRemainingSecs),
    assignedExecutors: s.assignedExecutors,
  };
}

export function toBuildSummary(b: BuildInfo): BuildSummary {
  return {
    buildId: b.buildId,
    tenantId: b.tenantId,
    priorityClass: b.priorityClass,
    state: buildStateName(b.state),
    totalDerivations: b.totalDerivations,
    completedDerivations: b.completedDerivations,
    cachedDerivations: b.cachedDerivations,
    errorSummary: b.errorSummary,
    submittedAt: toRfc3339(b.submittedAt),
    startedAt: toRfc3339(b.startedAt),
    finishedAt: toRfc3339(b.finishedAt),
  };
}

export function toClusterStatus(c: ClusterStatusResponse): ClusterStatus {
  return {
    totalExecutors: c.totalExecutors,
    activeExecutors: c.activeExecutors,
    drainingExecutors: c.drainingExecutors,
    pendingBuilds: c.pendingBuilds,
    activeBuilds: c.activeBuilds,
    queuedDerivations: c.queuedDerivations,
    runningDerivations: c.runningDerivations,
    storeSizeBytes: toNumber(c.storeSizeBytes),
    uptimeSince: toRfc3339(c.uptimeSince),
    queuedFodDerivations: c.queuedFodDerivations,
    queuedBySystem: { ...c.queuedBySystem },
  };
}

export function toBuildGraph(g: GetBuildGraphResponse): BuildGraph {
  return {
    nodes: g.nodes.map((n) => ({
      drvPath: n.drvPath,
      pname: n.pname,
      system: n.system,
      status: n.status,
      assignedExecutorId: n.assignedExecutorId,
    })),
    edges: g.edges.map((e) => ({ parent: e.parentDrvPath, child: e.childDrvPath })),
    truncated: g.truncated,
    totalNodes: g.totalNodes,
  };
}

export function toTenant(t: TenantInfo): Tenant {
  return {
    tenantId: t.tenantId,
    tenantName: t.tenantName,
    gcRetentionHours: t.gcRetentionHours,
    gcMaxStoreBytes: toOptionalNumber(t.gcMaxStoreBytes),
    createdAt: toRfc3339(t.createdAt),
    hasCacheToken: t.hasCacheToken,
  };
}
