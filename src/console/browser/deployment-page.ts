/**
 * One deployment: its state and actions, the shown sync's phase timeline, its derivation graph
 * turning green node by node (live from `derivation` events), the critical path and ETA, the build
 * log of the whole sync or of a clicked derivation, the deploy output, and the history.
 *
 * Events: subscribe to `fediversity.events.<tenant>.<deployment>` first, then replay the shown
 * sync's stored events with `deployment.events`, then apply live ones, dropping duplicates by
 * `seq` and filling any gap from the store (api.md's guarantee), so nothing is missed.
 */
import { isTerminal, type ApiEvent, type BuildCounters, type DeploymentView, type GraphResult, type SyncView } from "./api-types.js";
import { tenantArg, type AppContext, type Page } from "./app-context.js";
import { confirmAction } from "./confirm-dialog.js";
import { h, replace } from "./dom.js";
import { duration, plural, shortId, time } from "./format.js";
import { createGraphView, statusLabel, statusSymbol } from "./graph-view.js";
import { applyDerivationEvent, createGraphModel, criticalPath, nodeStatuses, statusCounts, type GraphModel } from "./graph-model.js";
import { createHistoryPanel, isMissingProcedure } from "./history-panel.js";
import { createLogPanel, type LogPanel } from "./log-panel.js";
import { deploymentHref, newHref, type Route } from "./routes.js";
import { errorText, etaText, progressText, stateBadge, syncPhase } from "./sync-summary.js";
import { phaseSteps } from "./sync-phases.js";
import { renderTimeline } from "./sync-timeline.js";
import { ConsoleError, type LiveSubscription } from "./wamp-client.js";

type DeploymentRoute = Extract<Route, { page: "deployment" }>;

export function createDeploymentPage(ctx: AppContext, route: DeploymentRoute): Page {
  const { tenant, deployment } = route;
  const args = { deployment, ...tenantArg(tenant) };
  const heading = h("h1", { id: "page-title", tabindex: -1 }, deployment);
  const meta = h("dl", { class: "meta" });
  const actions = h("div", { class: "actions", role: "group", "aria-label": "Actions" });
  const notice = h("div", { class: "notice-area", role: "alert" });
  const syncBox = h("section", { class: "card sync", "aria-labelledby": "sync-title" });
  const graphBox = h("section", { class: "card graph-card", "aria-labelledby": "graph-title" });
  const logsBox = h("div");
  const historyBox = h("div");
  const element = h(
    "section",
    { class: "page", "aria-labelledby": "page-title" },
    h("nav", { "aria-label": "Breadcrumb", class: "crumbs" }, h("a", { href: "#/" }, "Deployments"), ` › ${tenant} › `),
    h("div", { class: "page-head" }, heading, actions),
    meta,
    notice,
    syncBox,
    graphBox,
    logsBox,
    historyBox,
  );

  // ELK's worker (1.6 MB of script) starts loading now, while the page fetches the data.
  ctx.layouter();
  let disposed = false;
  let view: DeploymentView | null = null;
  let shown: SyncView | null = null;
  let syncEvents: ApiEvent[] = [];
  let lastSeq = 0;
  let replaying = true;
  const buffered: ApiEvent[] = [];
  let sub: LiveSubscription | null = null;
  let model: GraphModel | null = null;
  let graphState: "none" | "loading" | "drawn" = "none";
  let logs: LogPanel | null = null;
  let pathFrame = 0;
  let refetchTimer = 0;
  let selected: string | null = null;
  const graphView = createGraphView({ label: `Derivation graph of ${deployment}`, onSelect: (drv) => selectDerivation(drv) });
  const legend = h("ul", { class: "legend", "aria-label": "Derivations by status" });
  const pathText = h("p", { class: "critical", id: "critical-path" });
  const graphStatus = h("p", { class: "hint", role: "status" });
  const listDetails = h("details", { class: "drv-list" }, h("summary", {}, "Derivations as a list"));
  const syncTitle = h("h2", { id: "sync-title" }, "Sync");
  const timelineBox = h("div");
  const progressBox = h("p", { class: "progress-line" });
  const failedBox = h("div");
  replace(syncBox, syncTitle, timelineBox, progressBox, failedBox);
  replace(graphBox, h("h2", { id: "graph-title" }, "Derivation graph"), graphStatus, legend, pathText, graphView.element, listDetails);
  const tick = window.setInterval(() => {
    if (shown && !isTerminal(shown.state)) renderSync();
  }, 1000);

  function fail(err: unknown): void {
    const e = err instanceof ConsoleError ? err : new ConsoleError("internal", String((err as Error)?.message ?? err));
    if (e.code === "not_found" || e.code === "not_authorized") {
      replace(
        element,
        h("nav", { "aria-label": "Breadcrumb", class: "crumbs" }, h("a", { href: "#/" }, "Deployments")),
        h("h1", { tabindex: -1 }, "Deployment not found"),
        h("p", { class: "error-box", role: "alert" }, `There is no deployment “${deployment}” of tenant “${tenant}” that you may see.`),
      );
      (element.querySelector("h1") as HTMLElement).focus();
    } else {
      replace(notice, h("p", { class: "error-box" }, e.message));
    }
  }

  // ---- header and actions ------------------------------------------------------------------

  function renderHeader(): void {
    if (!view) return;
    const v = view;
    const pair = (dt: string, dd: HTMLElement | string | number, id?: string) => h("div", {}, h("dt", {}, dt), h("dd", { id }, dd));
    replace(meta, pair("Tenant", v.tenant), pair("Type", v.deployment_type), pair("State", stateBadge(v.state), "deployment-state"), pair("Generation", v.generation ?? "none live"), pair("Updated", time(v.updated_at)));
    const busy = v.current !== null || (v.queue?.length ?? 0) > 0;
    const cancel = h("button", { type: "button", disabled: !busy }, "Cancel sync…");
    cancel.addEventListener("click", () => void doCancel());
    const del = h("button", { type: "button", class: "danger" }, "Delete…");
    del.addEventListener("click", () => void doDelete());
    const rollback = h("button", { type: "button", disabled: (v.generation ?? 0) < 2 }, "Roll back…");
    rollback.addEventListener("click", () => void doRollback());
    replace(actions, h("a", { class: "button", href: newHref({ tenant: v.tenant, deployment: v.deployment, type: v.deployment_type }) }, "Change configuration"), cancel, rollback, del);
  }

  async function act(what: string, run: () => Promise<unknown>): Promise<void> {
    try {
      const r = (await run()) as { sync?: SyncView; cancelled?: string[]; refused?: { sync: string; reason: string }[] };
      let msg = `${what}: done.`;
      if (r.cancelled) msg = `Cancelled ${plural(r.cancelled.length, "sync")}${r.refused?.length ? `; ${plural(r.refused.length, "sync")} could not be (${r.refused.map((x) => x.reason).join(", ")})` : ""}.`;
      else if (r.sync) msg = `${what}: sync ${shortId(r.sync.sync)} is ${r.sync.state}.`;
      replace(notice, h("p", { class: "ok-box" }, msg));
      ctx.announcer.announce(msg);
      scheduleRefetch(0);
    } catch (err) {
      const e = err as ConsoleError;
      replace(notice, h("p", { class: "error-box" }, `${what} failed: ${e.message}`));
    }
  }

  async function doCancel(): Promise<void> {
    if (!view) return;
    const queued = view.queue?.length ?? 0;
    const ok = await confirmAction({
      title: `Cancel syncs of ${deployment}?`,
      body: [h("p", {}, `This cancels ${view.current ? `the running sync (${syncPhase(view.current)})` : "no running sync"}${queued ? ` and ${plural(queued, "queued sync")}` : ""}. A sync that is already deploying is never interrupted.`)],
      confirmLabel: "Cancel syncs",
      danger: true,
    });
    if (ok) await act("Cancel", () => ctx.client.call("fediversity.deployment.cancel", { ...args, reason: "cancelled from the console" }));
  }

  async function doDelete(): Promise<void> {
    const ok = await confirmAction({
      title: `Delete ${deployment}?`,
      body: [h("p", {}, `This enqueues a teardown: the running ${deployment} of tenant ${tenant} is removed. Its history stays.`)],
      confirmLabel: "Tear it down",
      danger: true,
    });
    if (ok) await act("Delete", () => ctx.client.call("fediversity.deployment.delete", args));
  }

  async function doRollback(): Promise<void> {
    const live = view?.generation ?? 0;
    const select = h("select", { id: "rollback-generation" }, ...Array.from({ length: Math.max(live - 1, 0) }, (_, i) => live - 1 - i).map((g) => h("option", { value: g }, `Generation ${g}`)));
    const ok = await confirmAction({
      title: `Roll ${deployment} back?`,
      body: [h("p", {}, `Generation ${live} is live. Re-apply a stored generation (nothing is evaluated again):`), h("div", { class: "field" }, h("label", { for: "rollback-generation" }, "Generation"), select)],
      confirmLabel: "Roll back",
    });
    if (ok) await act("Roll back", () => ctx.client.call("fediversity.deployment.rollback", { ...args, generation: Number(select.value) }));
  }

  // ---- the shown sync --------------------------------------------------------------------------

  function renderSync(): void {
    if (!shown) {
      replace(syncTitle, "No sync yet");
      replace(timelineBox, h("p", { class: "hint" }, "Nothing has been submitted to this deployment yet."));
      replace(progressBox);
      replace(failedBox);
      return;
    }
    const s = shown;
    const which = s.sync === view?.current?.sync ? "Current sync" : s.sync === view?.last?.sync ? "Last sync" : "Sync";
    replace(syncTitle, `${which} `, h("span", { class: "mono", title: s.sync }, shortId(s.sync)), ` (${s.kind}) `, stateBadge(s.state));
    replace(timelineBox, renderTimeline(phaseSteps(s.kind, syncEvents, Date.now())));
    const b = s.build;
    const eta = isTerminal(s.state) ? "" : etaText(b);
    replace(progressBox, b ? [h("progress", { max: b.total || 1, value: b.completed + b.cached, "aria-hidden": "true" }), " ", progressText(b), eta ? ` · ${eta} (rio's estimate)` : ""] : "");
    const failedDrv = s.error?.derivation ?? null;
    replace(
      failedBox,
      s.error
        ? h(
            "div",
            { class: "error-box" },
            h("p", {}, errorText(s)),
            failedDrv ? h("button", { type: "button", class: "primary", onclick: () => selectDerivation(failedDrv) }, `Show the log of the failed derivation`) : null,
          )
        : null,
    );
  }

  function renderGraphExtras(): void {
    if (!model) return;
    const counts = statusCounts(model);
    replace(
      legend,
      ...nodeStatuses.filter((st) => counts[st] > 0 || st !== "skipped").map((st) => h("li", { class: `st-${st}` }, h("span", { class: "swatch", "aria-hidden": "true" }, statusSymbol[st]), ` ${statusLabel[st]} `, h("strong", {}, counts[st]))),
    );
    const cp = criticalPath(model, Date.now());
    graphView.setCriticalPath(cp.path);
    if (cp.path.length === 0) {
      replace(pathText, counts.failed > 0 ? "Nothing left to build: a derivation failed." : "Nothing left to build.");
      return;
    }
    const names = cp.path.map((d) => model?.nodes.get(d)?.pname ?? d);
    const shownNames = names.length > 6 ? [...names.slice(0, 3), "…", ...names.slice(-2)] : names;
    const rio = shown?.build?.critical_path_remaining_secs;
    const eta = rio !== null && rio !== undefined ? `about ${duration(rio)} (rio's estimate)` : cp.remainingSecs !== null ? `about ${duration(cp.remainingSecs)} (estimated from this build's derivation times)` : null;
    replace(pathText, h("strong", {}, "Critical path: "), `${plural(cp.path.length, "derivation")} left: ${shownNames.join(" → ")}`, eta ? `. ETA ${eta}.` : ".");
    if (listDetails.open) renderList();
  }

  function schedulePath(): void {
    if (pathFrame) return;
    pathFrame = requestAnimationFrame(() => {
      pathFrame = 0;
      renderGraphExtras();
    });
  }

  function renderList(): void {
    if (!model) return;
    const rows = [...model.nodes.values()].map((n) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, n.pname),
        h("td", {}, `${statusSymbol[n.status]} ${statusLabel[n.status]}`),
        h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Show the log of ${n.pname}`, onclick: () => selectDerivation(n.drv) }, "Log")),
      ),
    );
    const table = h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Derivation"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Log"))), h("tbody", {}, ...rows));
    const summary = listDetails.querySelector("summary") as HTMLElement;
    replace(listDetails, summary, h("div", { class: "table-wrap" }, table));
  }
  listDetails.addEventListener("toggle", () => {
    if (listDetails.open) renderList();
  });

  function selectDerivation(drv: string): void {
    selected = drv;
    graphView.select(drv);
    const name = model?.nodes.get(drv)?.pname;
    logs?.showDerivation(drv, name ?? drv);
    ctx.announcer.announce(`Log filtered to ${name ?? drv}`);
    logs?.element.querySelector<HTMLElement>("#log-title")?.scrollIntoView({ block: "nearest" });
  }

  async function loadGraph(): Promise<void> {
    if (!shown || graphState !== "none") return;
    graphState = "loading";
    graphStatus.textContent = "Loading the derivation graph…";
    const sync = shown.sync;
    try {
      const g = await ctx.client.call<GraphResult>("fediversity.build.graph", { ...args, sync });
      if (disposed || shown?.sync !== sync) return;
      if (g.nodes.length === 0) {
        graphState = "none";
        graphStatus.textContent = "The graph appears once the build is submitted.";
        return;
      }
      const m = createGraphModel(g);
      for (const e of syncEvents) if (e.type === "derivation") applyDerivationEvent(m, e.data as { drv: string; kind: string; error?: string }, Date.parse(e.at));
      // Live events keep updating the model while ELK lays it out; the drawing shows them all.
      model = m;
      graphStatus.textContent = `Laying out ${plural(g.nodes.length, "derivation")}…`;
      const layout = await ctx.layouter().layout(m);
      if (disposed || shown?.sync !== sync || model !== m) return;
      graphView.draw(m, layout);
      if (selected) graphView.select(selected);
      graphState = "drawn";
      graphStatus.textContent = `${plural(g.nodes.length, "derivation")}${g.truncated ? " (the scheduler cut the graph off at its node limit)" : ""}${layout.mode === "backbone" ? "; large graph: only the main dependency of each derivation is routed" : ""}.`;
      (listDetails.querySelector("summary") as HTMLElement).textContent = `Derivations as a list (${g.nodes.length})`;
      renderGraphExtras();
    } catch (err) {
      graphState = "none";
      model = null;
      graphStatus.textContent = `The graph could not be loaded: ${(err as Error).message}`;
    }
  }

  function reachedDeploy(): boolean {
    return syncEvents.some((e) => e.type === "deploy.started" || (e.type === "sync.state" && (e.data["to"] === "deploying" || e.data["to"] === "destroying")));
  }

  /** Replays the stored events of `sync` (from about its submission) up to `until`. */
  async function replay(sync: SyncView, until: number): Promise<ApiEvent[]> {
    let since = 0;
    if (until > 2000) {
      // Events are in time order: find the last one before the sync was submitted (binary search).
      const submitted = Date.parse(sync.submitted_at) - 2000;
      let lo = 0;
      let hi = until;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const page = await ctx.client.call<{ events: ApiEvent[] }>("fediversity.deployment.events", { ...args, since: mid, limit: 1 });
        const at = page.events[0] ? Date.parse(page.events[0].at) : Infinity;
        if (at < submitted) lo = mid + 1;
        else hi = mid;
      }
      since = lo;
    }
    const out: ApiEvent[] = [];
    for (;;) {
      const page = await ctx.client.call<{ events: ApiEvent[]; next: number; more: boolean }>("fediversity.deployment.events", { ...args, since, limit: 1000 });
      for (const e of page.events) if (e.sync === sync.sync) out.push(e);
      since = page.next;
      if (!page.more || since >= until) break;
    }
    lastSeq = Math.max(lastSeq, since);
    return out;
  }

  async function showSync(sync: SyncView | null): Promise<void> {
    shown = sync;
    syncEvents = [];
    model = null;
    graphState = "none";
    selected = null;
    logs?.dispose();
    logs = null;
    replace(logsBox);
    replace(legend);
    replace(pathText);
    graphStatus.textContent = "";
    if (!sync) {
      renderSync();
      graphStatus.textContent = "No build yet.";
      replaying = false;
      for (const e of buffered.splice(0)) apply(e);
      return;
    }
    replaying = true;
    try {
      syncEvents = await replay(sync, view?.seq ?? 0);
    } finally {
      replaying = false;
    }
    if (disposed || shown !== sync) return;
    // Live events that arrived during the replay; those it already covered are dropped by seq.
    for (const e of buffered.splice(0)) apply(e);
    renderSync();
    logs = createLogPanel(ctx, { tenant, deployment, sync: sync.sync });
    replace(logsBox, logs.element);
    if (reachedDeploy() || (isTerminal(sync.state) && sync.kind === "teardown")) logs.startDeploy();
    else if (isTerminal(sync.state)) logs.noDeploy(`The sync ${sync.state.replace("_", " ")} before deploying: no deploy output.`);
    if (sync.build || syncEvents.some((e) => e.type === "build.submitted")) await loadGraph();
    else graphStatus.textContent = sync.kind === "teardown" ? "A teardown builds nothing." : isTerminal(sync.state) ? "This sync built nothing." : "The graph appears once the build is submitted.";
  }

  // ---- live events -------------------------------------------------------------------------------

  function scheduleRefetch(delay = 250): void {
    if (refetchTimer) return;
    refetchTimer = window.setTimeout(() => {
      refetchTimer = 0;
      void refetch();
    }, delay);
  }

  async function refetch(): Promise<void> {
    try {
      const next = await ctx.client.call<DeploymentView>("fediversity.deployment.get", args);
      if (disposed) return;
      if (view && next.state !== view.state) ctx.announcer.announce(`${deployment} is now ${next.state}`);
      view = next;
      renderHeader();
      if (shown) {
        const fresh = [next.current, next.last, ...(next.queue ?? [])].find((s) => s?.sync === shown?.sync);
        if (fresh) {
          shown = fresh;
          renderSync();
        }
      }
      // Following "the current sync" (no sync in the URL): a newer sync that started takes over.
      const target = next.current ?? next.last;
      if (route.sync === null && target && target.sync !== shown?.sync && (next.current !== null || !shown || isTerminal(shown.state))) {
        await showSync(target);
      }
    } catch (err) {
      fail(err);
    }
  }

  function apply(e: ApiEvent): void {
    if (e.seq <= lastSeq) return;
    if (e.seq > lastSeq + 1) {
      // A gap (we were reconnecting): take the missing events from the store first.
      const from = lastSeq;
      lastSeq = e.seq;
      void ctx.client.call<{ events: ApiEvent[] }>("fediversity.deployment.events", { ...args, since: from, limit: 1000 }).then((page) => {
        for (const m of page.events) if (m.seq < e.seq) handle(m);
      }, () => scheduleRefetch());
    } else lastSeq = e.seq;
    handle(e);
  }

  function handle(e: ApiEvent): void {
    if (shown && e.sync === shown.sync) {
      syncEvents.push(e);
      switch (e.type) {
        case "derivation":
          if (model) {
            const n = applyDerivationEvent(model, e.data as { drv: string; kind: string; error?: string }, Date.parse(e.at));
            if (n) {
              graphView.touch(n.drv);
              schedulePath();
            }
          }
          return;
        case "build.progress":
          shown.build = { ...(shown.build ?? {}), ...(e.data as unknown as BuildCounters) };
          renderSync();
          schedulePath();
          return;
        case "build.submitted":
        case "build.started":
          renderSync();
          void loadGraph();
          return;
        case "deploy.started":
          logs?.startDeploy();
          renderSync();
          return;
        case "sync.state":
          if (e.data["to"] === "deploying" || e.data["to"] === "destroying") logs?.startDeploy();
          shown.state = String(e.data["to"]);
          ctx.announcer.announce(`Sync is ${shown.state}`);
          renderSync();
          scheduleRefetch();
          return;
        case "sync.finished":
          shown.state = String(e.data["state"]);
          ctx.announcer.announce(`Sync ${shown.state}`);
          renderSync();
          if (reachedDeploy()) logs?.startDeploy();
          else logs?.noDeploy(`The sync ${shown.state.replace("_", " ")} before deploying: no deploy output.`);
          scheduleRefetch(0);
          return;
        default:
          renderSync();
          scheduleRefetch();
          return;
      }
    }
    if (e.type !== "derivation" && e.type !== "build.progress") scheduleRefetch();
  }

  async function init(): Promise<void> {
    try {
      sub = await ctx.client.subscribe(`fediversity.events.${tenant}.${deployment}`, "exact", (p) => {
        const e = p as ApiEvent;
        if (replaying) buffered.push(e);
        else apply(e);
      });
      if (disposed) sub.close();
    } catch {
      // Refused (another tenant's topic) or unavailable: the get below says which.
    }
    try {
      view = await ctx.client.call<DeploymentView>("fediversity.deployment.get", args);
    } catch (err) {
      replaying = false;
      fail(err);
      return;
    }
    if (disposed) return;
    renderHeader();
    replace(historyBox, createHistoryPanel(ctx, { tenant, deployment, shown: route.sync ?? view.current?.sync ?? view.last?.sync ?? null }));
    let target: SyncView | null = view.current ?? view.last;
    if (route.sync) {
      target = [view.current, view.last, ...(view.queue ?? [])].find((s) => s?.sync === route.sync) ?? null;
      if (!target) {
        try {
          target = await ctx.client.call<SyncView>("fediversity.sync.get", { sync: route.sync, ...tenantArg(tenant) });
        } catch (err) {
          const e = err as ConsoleError;
          replace(
            notice,
            h(
              "p",
              { class: "error-box" },
              isMissingProcedure(e.uri) ? "This service cannot show older syncs yet (it lacks fediversity.sync.get). " : `Sync ${shortId(route.sync)} was not found. `,
              h("a", { href: deploymentHref(tenant, deployment) }, "Show the current sync"),
            ),
          );
        }
      }
    }
    try {
      await showSync(target);
    } catch (err) {
      fail(err);
    }
    replaying = false;
    for (const e of buffered.splice(0)) apply(e);
  }

  void init();

  return {
    title: deployment,
    element,
    dispose() {
      disposed = true;
      sub?.close();
      logs?.dispose();
      graphView.dispose();
      clearInterval(tick);
      clearTimeout(refetchTimer);
      if (pathFrame) cancelAnimationFrame(pathFrame);
    },
  };
}
