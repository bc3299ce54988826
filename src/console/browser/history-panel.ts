/**
 * A deployment's past syncs from `fediversity.deployment.history` (api.md v1.1). A service that
 * does not offer the procedure yet answers `wamp.error.no_such_procedure`: the panel says so.
 */
import type { HistoryResult, SyncView } from "./api-types.js";
import { tenantArg, type AppContext } from "./app-context.js";
import { h, replace } from "./dom.js";
import { shortId, time } from "./format.js";
import { deploymentHref } from "./routes.js";
import { errorText, stateBadge } from "./sync-summary.js";

/**
 * A procedure the service does not offer: the embedded router's authorizer refuses URIs outside
 * the API it knows (`wamp.error.not_authorized`, unlike the API's own `fediversity.error.…`), and
 * a router without that authorizer answers `wamp.error.no_such_procedure`.
 */
export function isMissingProcedure(uri: string | null | undefined): boolean {
  return uri === "wamp.error.no_such_procedure" || uri === "wamp.error.not_authorized";
}

export function createHistoryPanel(ctx: AppContext, target: { tenant: string; deployment: string; shown: string | null }): HTMLElement {
  const body = h("div", {}, h("p", { class: "hint" }, "Loading…"));
  const section = h("section", { class: "card history", "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, "History"), body);
  let cursor: string | null = null;
  const tbody = h("tbody");
  const more = h("button", { type: "button" }, "Older syncs");

  function row(s: SyncView): HTMLTableRowElement {
    const current = s.sync === target.shown;
    return h(
      "tr",
      { class: current ? "shown" : undefined },
      h("th", { scope: "row" }, h("a", { href: deploymentHref(target.tenant, target.deployment, s.sync), "aria-current": current ? "page" : false, title: s.sync }, shortId(s.sync))),
      h("td", {}, s.kind),
      h("td", {}, stateBadge(s.state)),
      h("td", {}, time(s.submitted_at)),
      h("td", {}, time(s.finished_at)),
      h("td", { class: "error-text" }, errorText(s)),
    );
  }

  async function load(): Promise<void> {
    try {
      const page = await ctx.client.call<HistoryResult>("fediversity.deployment.history", {
        deployment: target.deployment,
        limit: 20,
        ...(cursor ? { cursor } : {}),
        ...tenantArg(target.tenant),
      });
      if (cursor === null) {
        replace(
          body,
          page.syncs.length === 0
            ? h("p", { class: "hint" }, "No syncs yet.")
            : h(
                "div",
                { class: "table-wrap" },
                h(
                  "table",
                  {},
                  h("caption", { class: "visually-hidden" }, "Syncs of this deployment, newest first"),
                  h("thead", {}, h("tr", {}, ...["Sync", "Kind", "Result", "Submitted", "Finished", "Error"].map((t) => h("th", { scope: "col" }, t)))),
                  tbody,
                ),
              ),
          more,
        );
      }
      tbody.append(...page.syncs.map(row));
      cursor = page.next_cursor;
      more.hidden = cursor === null;
    } catch (err) {
      const e = err as { uri?: string | null; message: string };
      replace(
        body,
        isMissingProcedure(e.uri)
          ? h("p", { class: "notice", "data-history": "missing" }, "History is not available: this service does not offer fediversity.deployment.history (API v1.1) yet. The current and last sync are shown above.")
          : h("p", { class: "error-text" }, `The history could not be loaded: ${e.message}`),
      );
    }
  }
  more.addEventListener("click", () => void load());
  void load();
  return section;
}
