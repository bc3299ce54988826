/**
 * The deployments the signed-in principal may see, live: a tenant sees its own; the panel picks
 * the tenant it acts for; an operator sees every tenant (or one) plus the queue and rio's cluster.
 * Rows follow `fediversity.events.<tenant>` (prefix) — build progress from the events themselves,
 * everything else by fetching the deployment again (debounced per deployment).
 */
import type { ApiEvent, BuildCounters, DeploymentView, QueueStatus, SyncView } from "./api-types.js";
import { tenantArg, type AppContext, type Page } from "./app-context.js";
import { h, replace } from "./dom.js";
import { time } from "./format.js";
import { deploymentHref, newHref } from "./routes.js";
import { errorText, etaText, progressWidget, stateBadge, syncPhase } from "./sync-summary.js";
import type { LiveSubscription } from "./wamp-client.js";

export function createDeploymentsPage(ctx: AppContext): Page {
  const p = ctx.client.principal;
  const scope = ctx.tenantScope();
  const showTenant = p.role !== "tenant";
  const status = h("p", { class: "hint", role: "status" }, "Loading…");
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "deployments" },
    h("caption", { class: "visually-hidden" }, "Deployments, updated live"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Deployment"),
        showTenant ? h("th", { scope: "col" }, "Tenant") : null,
        h("th", { scope: "col" }, "Type"),
        h("th", { scope: "col" }, "State"),
        h("th", { scope: "col", class: "num" }, "Gen."),
        h("th", { scope: "col" }, "Current sync"),
        h("th", { scope: "col" }, "Last result"),
        h("th", { scope: "col" }, "Updated"),
      ),
    ),
    tbody,
  );
  const more = h("button", { type: "button", hidden: true }, "Show more");
  const rows = new Map<string, { view: DeploymentView; tr: HTMLTableRowElement }>();
  const refetch = new Map<string, number>();
  let cursor: string | null = null;
  let sub: LiveSubscription | null = null;
  let disposed = false;
  let queueTimer = 0;
  const keyOf = (tenant: string, deployment: string) => `${tenant}/${deployment}`;

  function renderRow(v: DeploymentView, tr: HTMLTableRowElement): void {
    const cur = v.current;
    replace(
      tr,
      h("th", { scope: "row" }, h("a", { href: deploymentHref(v.tenant, v.deployment) }, v.deployment)),
      showTenant ? h("td", { "data-label": "Tenant" }, v.tenant) : null,
      h("td", { "data-label": "Type" }, v.deployment_type),
      h("td", { "data-label": "State" }, stateBadge(v.state)),
      h("td", { class: "num", "data-label": "Generation" }, v.generation ?? "–"),
      h("td", { class: "current", "data-label": "Current sync" }, cur ? [h("span", { class: "phase" }, syncPhase(cur)), " ", progressWidget(cur.build), etaText(cur.build) ? h("span", { class: "eta" }, ` · ${etaText(cur.build)}`) : null] : h("span", { class: "muted" }, "none")),
      h("td", { "data-label": "Last result" }, lastResult(v.last)),
      h("td", { "data-label": "Updated" }, time(v.updated_at)),
    );
  }

  function lastResult(last: SyncView | null): HTMLElement | string {
    if (!last) return "–";
    return h("span", { title: errorText(last) || undefined }, stateBadge(last.state), last.error ? h("span", { class: "error-text" }, ` ${last.error.code.replace("_", " ")}`) : null);
  }

  function upsert(v: DeploymentView, atTop = false): void {
    const key = keyOf(v.tenant, v.deployment);
    const known = rows.get(key);
    if (known) {
      if (known.view.state !== v.state) ctx.announcer.announce(`${v.deployment} is now ${v.state}`);
      if (known.view.last?.sync !== v.last?.sync && v.last) ctx.announcer.announce(`${v.deployment}: sync ${v.last.state}`);
      known.view = v;
      renderRow(v, known.tr);
      return;
    }
    const tr = h("tr", { "data-deployment": key });
    rows.set(key, { view: v, tr });
    renderRow(v, tr);
    if (atTop) tbody.prepend(tr);
    else tbody.append(tr);
  }

  async function load(): Promise<void> {
    try {
      const page = await ctx.client.call<{ deployments: DeploymentView[]; next_cursor: string | null }>("fediversity.deployment.list", {
        limit: 100,
        ...(cursor ? { cursor } : {}),
        ...(scope && p.role !== "tenant" ? tenantArg(scope) : {}),
      });
      if (disposed) return;
      for (const d of page.deployments) upsert(d);
      cursor = page.next_cursor;
      more.hidden = cursor === null;
      status.textContent = rows.size === 0 ? "No deployments yet." : `${rows.size} deployment${rows.size === 1 ? "" : "s"}, updated live.`;
      if (p.role !== "tenant") refreshTenantChoices();
    } catch (err) {
      status.textContent = `Could not list deployments: ${(err as Error).message}`;
    }
  }

  function scheduleRefetch(tenant: string, deployment: string): void {
    const key = keyOf(tenant, deployment);
    if (refetch.has(key)) return;
    refetch.set(
      key,
      window.setTimeout(() => {
        refetch.delete(key);
        ctx.client.call<DeploymentView>("fediversity.deployment.get", { deployment, ...tenantArg(tenant) }).then(
          (v) => {
            if (!disposed) upsert(v, true);
          },
          () => undefined,
        );
      }, 250),
    );
  }

  function onEvent(payload: unknown): void {
    const e = payload as ApiEvent;
    if (!e || typeof e.deployment !== "string" || typeof e.tenant !== "string") return;
    if (e.type === "derivation") return;
    const row = rows.get(keyOf(e.tenant, e.deployment));
    if (e.type === "build.progress" && row?.view.current && row.view.current.sync === e.sync) {
      row.view.current.build = { ...(row.view.current.build ?? {}), ...(e.data as unknown as BuildCounters) };
      renderRow(row.view, row.tr);
      return;
    }
    scheduleRefetch(e.tenant, e.deployment);
    if (e.type === "sync.finished" || e.type.startsWith("sync.")) scheduleQueue();
  }

  // Panel and operator: which tenant to act for / to show.
  const tenantInput = h("input", { id: "tenant-scope", list: "tenant-choices", value: scope ?? "", autocomplete: "off", spellcheck: "false", pattern: "[a-z0-9][a-z0-9_\\-]{0,62}" });
  const choices = h("datalist", { id: "tenant-choices" });
  function refreshTenantChoices(): void {
    const tenants = [...new Set([...rows.values()].map((r) => r.view.tenant))].sort();
    replace(choices, ...tenants.map((t) => h("option", { value: t })));
  }
  const picker =
    p.role === "tenant"
      ? null
      : h(
          "form",
          { class: "tenant-picker", role: "search" },
          h("label", { for: "tenant-scope" }, p.role === "panel" ? "Act for tenant" : "Show tenant"),
          tenantInput,
          choices,
          h("button", { type: "submit" }, "Apply"),
          scope ? h("button", { type: "button", class: "link", onclick: () => pick(null) }, p.role === "panel" ? "Clear" : "All tenants") : null,
          h("p", { class: "hint" }, p.role === "panel" ? "The panel acts for one tenant at a time: pick it to see and change its deployments." : "Leave empty to see every tenant."),
        );
  function pick(t: string | null): void {
    ctx.setTenantScope(t);
    ctx.navigate("#/");
  }
  picker?.addEventListener("submit", (e) => {
    e.preventDefault();
    const t = tenantInput.value.trim();
    if (t && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(t)) {
      status.textContent = "A tenant name is lowercase letters, digits, '-' and '_'.";
      tenantInput.focus();
      return;
    }
    pick(t || null);
  });

  // Operators: the queue and rio's ClusterStatus (queue.status), refreshed every 5 s.
  const queueBox = h("section", { class: "card", "aria-labelledby": "queue-title" });
  function scheduleQueue(): void {
    if (p.role !== "operator" || queueTimer) return;
    queueTimer = window.setTimeout(() => {
      queueTimer = 0;
      void loadQueue();
    }, 300);
  }
  async function loadQueue(): Promise<void> {
    try {
      const q = await ctx.client.call<QueueStatus>("fediversity.queue.status");
      if (disposed) return;
      const sched = Object.entries(q.scheduler).filter(([, v]) => typeof v !== "object" || v === null);
      const bySystem = q.scheduler["queued_by_system"] as Record<string, number> | undefined;
      replace(
        queueBox,
        h("h2", { id: "queue-title" }, "Queue and build cluster"),
        h("dl", { class: "stats" }, ...Object.entries(q.syncs).flatMap(([k, v]) => [h("dt", {}, `${k} syncs`), h("dd", {}, v)])),
        h("h3", {}, "rio ClusterStatus"),
        h(
          "dl",
          { class: "stats" },
          ...sched.flatMap(([k, v]) => [h("dt", {}, k.replaceAll("_", " ")), h("dd", {}, k === "uptime_since" ? time(String(v)) : String(v))]),
          ...(bySystem ? Object.entries(bySystem).flatMap(([k, v]) => [h("dt", {}, `queued on ${k}`), h("dd", {}, v)]) : []),
        ),
      );
    } catch (err) {
      replace(queueBox, h("h2", { id: "queue-title" }, "Queue and build cluster"), h("p", { class: "error-text" }, `queue.status failed: ${(err as Error).message}`));
    }
  }
  const queueInterval = p.role === "operator" ? window.setInterval(() => void loadQueue(), 5000) : 0;

  more.addEventListener("click", () => void load());
  const needsTenant = p.role === "panel" && !scope;
  const element = h(
    "section",
    { class: "page", "aria-labelledby": "page-title" },
    h("div", { class: "page-head" }, h("h1", { id: "page-title", tabindex: -1 }, "Deployments"), needsTenant ? null : h("a", { class: "button primary", href: newHref({ tenant: scope }) }, "New deployment")),
    picker,
    p.role === "operator" ? queueBox : null,
    needsTenant ? h("p", { class: "notice" }, "Pick a tenant to act for. Below: every tenant's deployments.") : null,
    status,
    h("div", { class: "table-wrap" }, table),
    more,
  );

  const topic = p.role === "tenant" ? `fediversity.events.${p.tenant ?? ""}` : scope ? `fediversity.events.${scope}` : "fediversity.events";
  void ctx.client.subscribe(topic, "prefix", onEvent).then(
    (s) => {
      if (disposed) s.close();
      else sub = s;
    },
    (err: unknown) => {
      status.textContent = `Live updates are off: ${(err as Error).message}`;
    },
  );
  void load();
  if (p.role === "operator") void loadQueue();

  return {
    title: "Deployments",
    element,
    dispose() {
      disposed = true;
      sub?.close();
      for (const t of refetch.values()) clearTimeout(t);
      clearInterval(queueInterval);
      clearTimeout(queueTimer);
    },
  };
}
