/** Human-readable output of API results (the `--json` output is the result itself). */
import type {
  CancelResult,
  DeploymentSummary,
  DeploymentView,
  ListResult,
  PlanResult,
  QueueStatusResult,
  SubmitResult,
  SyncView,
} from "../core/index.js";

export function formatSync(s: SyncView): string {
  const position = s.position === null ? "" : s.position === 0 ? ", running" : `, ${s.position} ahead`;
  const error = s.error ? ` — ${s.error.code}: ${s.error.message}` : "";
  const by = s.superseded_by ? ` (superseded by ${s.superseded_by})` : "";
  return `${s.sync} ${s.kind} ${s.state}${position}${by}${error}`;
}

export function formatSubmit(r: SubmitResult): string[] {
  const lines = [`${r.sync.tenant}/${r.sync.deployment}: sync ${formatSync(r.sync)}`];
  if (r.superseded.length > 0) lines.push(`superseded: ${r.superseded.join(", ")}`);
  return lines;
}

export function formatPlan(r: PlanResult): string[] {
  const lines = [`${r.derivations} derivations: ${r.to_build} to build, ${r.cached} cached`];
  for (const n of r.nodes) lines.push(`  ${n.cached ? "cached" : "build "}  ${n.pname}  ${n.drv}`);
  return lines;
}

export function formatDeployment(v: DeploymentView | DeploymentSummary): string[] {
  const lines = [
    `${v.tenant}/${v.deployment} (${v.deployment_type}): ${v.state}, generation ${v.generation}, seq ${v.seq}`,
  ];
  if (v.current) lines.push(`  current: ${formatSync(v.current)}`);
  if ("queue" in v) for (const q of v.queue ?? []) lines.push(`  queued:  ${formatSync(q)}`);
  if (v.last) lines.push(`  last:    ${formatSync(v.last)}`);
  return lines;
}

export function formatList(r: ListResult): string[] {
  const rows = r.deployments.map((d) => [
    d.tenant,
    d.deployment,
    d.deployment_type,
    d.state,
    String(d.generation),
    d.current ? `${d.current.state} ${d.current.sync}` : d.last ? `last ${d.last.state}` : "",
  ]);
  const header = ["TENANT", "DEPLOYMENT", "TYPE", "STATE", "GEN", "SYNC"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const lines = [line(header), ...rows.map(line)];
  if (r.next_cursor) lines.push(`(more: --cursor ${r.next_cursor})`);
  return lines;
}

export function formatCancel(r: CancelResult): string[] {
  const lines = [`cancelled: ${r.cancelled.length > 0 ? r.cancelled.join(", ") : "nothing"}`];
  for (const refused of r.refused) lines.push(`refused: ${refused.sync} (${refused.reason})`);
  return lines;
}

export function formatQueue(r: QueueStatusResult): string[] {
  const s = r.syncs;
  return [
    `syncs: ${s.queued} queued, ${s.evaluating} evaluating, ${s.building} building, ${s.deploying} deploying`,
    `scheduler: ${JSON.stringify(r.scheduler)}`,
  ];
}
