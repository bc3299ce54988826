/** Human-readable output of API results (the `--json` output is the result itself). */
import type {
  CancelResult,
  DeliveriesResult,
  HistoryResult,
  WebhookCreateResult,
  WebhookListResult,
  WebhookView,
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

/** One sync in full: the view's fields one per line. */
export function formatSyncDetail(s: SyncView): string[] {
  const lines = [`${s.tenant}/${s.deployment}: sync ${formatSync(s)}`, `  submitted ${s.submitted_at}`];
  if (s.started_at) lines.push(`  started   ${s.started_at}`);
  if (s.finished_at) lines.push(`  finished  ${s.finished_at}`);
  if (s.config_hash) lines.push(`  config    ${s.config_hash}`);
  if (s.build) lines.push(`  build     ${s.build.build_id}: ${s.build.completed}/${s.build.total} built, ${s.build.cached} cached, ${s.build.failed} failed`);
  if (s.error?.derivation) lines.push(`  derivation ${s.error.derivation}`);
  return lines;
}

export function formatHistory(r: HistoryResult): string[] {
  const rows = r.syncs.map((s) => [s.sync, s.kind, s.state, s.submitted_at, s.finished_at ?? "", s.superseded_by ? `by ${s.superseded_by}` : s.error ? `${s.error.code}: ${s.error.message}` : ""]);
  return [...table(["SYNC", "KIND", "STATE", "SUBMITTED", "FINISHED", "NOTE"], rows), ...(r.next_cursor ? [`(more: --cursor ${r.next_cursor})`] : [])];
}

export function formatWebhook(w: WebhookView): string {
  const scope = w.deployment ? `deployment ${w.deployment}` : "every deployment";
  const health = w.failing_since ? `failing since ${w.failing_since}` : w.last_delivery_at ? `last delivery ${w.last_delivery_at}` : "no delivery yet";
  return `${w.webhook} ${w.url} (${w.events.join(", ")}; ${scope}; ${health})${w.description ? ` — ${w.description}` : ""}`;
}

export function formatWebhookCreated(r: WebhookCreateResult): string[] {
  return [`created ${formatWebhook(r.webhook)}`, `signing secret (shown only now; store it with the receiver): ${r.secret}`];
}

export function formatWebhooks(r: WebhookListResult): string[] {
  return r.webhooks.length === 0 ? ["no webhooks"] : r.webhooks.map(formatWebhook);
}

export function formatDeliveries(r: DeliveriesResult): string[] {
  const rows = r.deliveries.map((d) => [
    d.delivery,
    d.deployment,
    String(d.event_seq),
    d.type,
    d.state,
    String(d.attempts),
    d.last_status === null ? "" : String(d.last_status),
    d.next_attempt_at ?? "",
    d.last_error ?? "",
  ]);
  const header = ["DELIVERY", "DEPLOYMENT", "SEQ", "TYPE", "STATE", "TRIES", "STATUS", "NEXT", "ERROR"];
  return [...table(header, rows), ...(r.next_cursor ? [`(more: --cursor ${r.next_cursor})`] : [])];
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
