/**
 * The console's entry point: sign-in, the header (who, tenant picker, navigation), and the router
 * that puts one page at a time into <main>. Nothing runs before DOMContentLoaded.
 */
import { createAnnouncer } from "./announcer.js";
import type { AppContext, Page } from "./app-context.js";
import { createDeploymentPage } from "./deployment-page.js";
import { createDeploymentsPage } from "./deployments-page.js";
import { h, replace } from "./dom.js";
import { createGraphLayouter, type GraphLayouter } from "./graph-layouter.js";
import { createLoginPage } from "./login-page.js";
import { parseRoute } from "./routes.js";
import { createSubmitPage } from "./submit-page.js";
import { createValidator, type Validator } from "./validator.js";
import type { ConnectionEvents, WampClient } from "./wamp-client.js";

const tenantKey = "fediversity-console.tenant";

function start(): void {
  const main = document.getElementById("main") as HTMLElement;
  const nav = document.getElementById("nav") as HTMLElement;
  const who = document.getElementById("who") as HTMLElement;
  const connection = document.getElementById("connection") as HTMLElement;
  const announcer = createAnnouncer(document.getElementById("announcer") as HTMLElement);
  let client: WampClient | null = null;
  let page: Page | null = null;
  let validator: Validator | null = null;
  let layouter: GraphLayouter | null = null;
  let scope: string | null = sessionStorage.getItem(tenantKey);

  const events: ConnectionEvents = {
    onLost() {
      connection.textContent = "Connection to the service lost; reconnecting…";
      connection.className = "connection warn";
    },
    onRestored() {
      connection.textContent = "";
      connection.className = "connection";
      announcer.announce("Reconnected to the service");
      render();
    },
    onClosed(message) {
      client = null;
      connection.textContent = `${message} Sign in again to continue.`;
      connection.className = "connection warn";
      render();
    },
  };

  const ctx = (c: WampClient): AppContext => ({
    client: c,
    announcer,
    validator: () => (validator ??= createValidator(new URL("./validate-worker.js", import.meta.url).href)),
    layouter: () => (layouter ??= createGraphLayouter(new URL("./elk-worker.js", import.meta.url).href)),
    tenantScope: () => (c.principal.role === "tenant" ? c.principal.tenant : scope),
    setTenantScope(t) {
      scope = t;
      if (t) sessionStorage.setItem(tenantKey, t);
      else sessionStorage.removeItem(tenantKey);
      renderHeader();
    },
    navigate(hash) {
      if (location.hash === hash) render();
      else location.hash = hash;
    },
  });

  function renderHeader(): void {
    if (!client) {
      replace(nav);
      replace(who);
      return;
    }
    const p = client.principal;
    replace(
      nav,
      h("ul", {}, h("li", {}, h("a", { href: "#/" }, "Deployments")), h("li", {}, h("a", { href: "#/new" }, "New deployment"))),
    );
    const signOut = h("button", { type: "button", class: "link" }, "Sign out");
    signOut.addEventListener("click", () => {
      const c = client;
      client = null;
      c?.close();
      announcer.announce("Signed out");
      location.hash = "#/";
      render();
    });
    const role = p.role === "tenant" ? `tenant ${p.tenant ?? "?"}` : p.role === "panel" ? `panel${scope ? `, acting for ${scope}` : ""}` : `operator${scope ? `, showing ${scope}` : ""}`;
    replace(who, h("span", {}, `Signed in as `, h("strong", {}, p.authid), ` (${role})`), " ", signOut);
  }

  function show(next: Page): void {
    page?.dispose();
    page = next;
    replace(main, next.element);
    document.title = `${next.title} · Fediversity deployments`;
    // Screen readers and keyboard users start at the new page's heading.
    const heading = next.element.querySelector<HTMLElement>("h1");
    heading?.focus({ preventScroll: false });
  }

  function render(): void {
    renderHeader();
    if (!client) {
      show(
        createLoginPage(events, (c) => {
          client = c;
          connection.textContent = "";
          const p = c.principal;
          announcer.announce(`Signed in as ${p.authid}`);
          render();
        }),
      );
      return;
    }
    const c = ctx(client);
    const route = parseRoute(location.hash);
    switch (route.page) {
      case "list":
        show(createDeploymentsPage(c));
        break;
      case "deployment":
        show(createDeploymentPage(c, route));
        break;
      case "new":
        show(createSubmitPage(c, route));
        break;
      case "unknown":
        show({
          title: "Not found",
          element: h("section", { class: "page" }, h("h1", { tabindex: -1 }, "Page not found"), h("p", {}, "There is no such page. ", h("a", { href: "#/" }, "Go to the deployments."))),
          dispose: () => {},
        });
        break;
      default: {
        const never: never = route;
        throw new Error(`unknown route ${String(never)}`);
      }
    }
  }

  window.addEventListener("hashchange", () => {
    // In-page anchors (the skip link) are not routes.
    if (location.hash === "" || location.hash.startsWith("#/")) render();
  });
  render();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
