/**
 * A sync's output, followed live with `build.logs` (`follow: true`, progressive results): the build
 * log of the whole sync or of one derivation (switching cancels the previous follow first), and the
 * deploy output (lines with source `deploy`) once the sync has reached its deploy phase.
 */
import type { LogLine, LogsResult } from "./api-types.js";
import { tenantArg, type AppContext } from "./app-context.js";
import { h, replace } from "./dom.js";
import type { FollowHandle } from "./wamp-client.js";

/** Lines kept on screen per panel; older ones are dropped (the API keeps them all). */
const maxLines = 5000;

export interface LogPanel {
  readonly element: HTMLElement;
  /** Follows one derivation's lines (null: every derivation). */
  showDerivation(drv: string | null, label?: string): void;
  /** Starts following the deploy output (idempotent). */
  startDeploy(): void;
  /** The sync ended without deploying. */
  noDeploy(text: string): void;
  dispose(): void;
}

interface Stream {
  readonly list: HTMLOListElement;
  readonly status: HTMLElement;
  count: number;
  handle: FollowHandle | null;
  generation: number;
}

export function createLogPanel(ctx: AppContext, target: { tenant: string; deployment: string; sync: string }): LogPanel {
  const title = h("h2", { id: "log-title" }, "Build log");
  const scopeText = h("p", { class: "hint", id: "log-scope" }, "All derivations.");
  const showAll = h("button", { type: "button", hidden: true }, "Show every derivation");
  const build: Stream = { list: h("ol", { class: "log", "aria-labelledby": "log-title", tabindex: 0 }), status: h("p", { class: "hint", role: "status" }), count: 0, handle: null, generation: 0 };
  const deploy: Stream = { list: h("ol", { class: "log", "aria-labelledby": "deploy-title", tabindex: 0 }), status: h("p", { class: "hint", role: "status" }, "No deploy output yet: the sync deploys after its build."), count: 0, handle: null, generation: 0 };
  let deployStarted = false;

  function appendLines(stream: Stream, lines: readonly LogLine[]): void {
    if (lines.length === 0) return;
    const atBottom = stream.list.scrollTop + stream.list.clientHeight >= stream.list.scrollHeight - 8;
    const frag = document.createDocumentFragment();
    for (const l of lines) {
      frag.append(h("li", { value: l.line + 1, class: l.source === "deploy" ? "deploy" : undefined }, l.text));
    }
    stream.list.append(frag);
    stream.count += lines.length;
    while (stream.list.childElementCount > maxLines) stream.list.firstElementChild?.remove();
    if (atBottom) stream.list.scrollTop = stream.list.scrollHeight;
  }

  function follow(stream: Stream, kwargs: Record<string, unknown>, keep: (l: LogLine) => boolean, empty: string): void {
    stream.handle?.cancel();
    const generation = ++stream.generation;
    replace(stream.list);
    stream.count = 0;
    stream.status.textContent = "Loading…";
    const take = (r: LogsResult | null) => {
      if (!r || generation !== stream.generation) return;
      appendLines(stream, r.lines.filter(keep));
      stream.status.textContent = stream.count === 0 ? empty : r.complete ? `${stream.count} lines, complete.` : `${stream.count} lines, following…`;
    };
    const handle = ctx.client.follow<LogsResult>(
      "fediversity.build.logs",
      { deployment: target.deployment, sync: target.sync, follow: true, limit: 1000, ...tenantArg(target.tenant), ...kwargs },
      take,
    );
    stream.handle = handle;
    handle.done.then(
      (r) => {
        if (generation !== stream.generation) return;
        take(r as LogsResult | null);
        if (r !== null) stream.status.textContent = stream.count === 0 ? empty : `${stream.count} lines, complete.`;
      },
      (err: unknown) => {
        if (generation === stream.generation) stream.status.textContent = `The log could not be read: ${(err as Error).message}`;
      },
    );
  }

  function showDerivation(drv: string | null, label?: string): void {
    title.textContent = drv ? `Build log of ${label ?? drv}` : "Build log";
    scopeText.textContent = drv ? `Only the lines of ${drv}.` : "All derivations.";
    showAll.hidden = drv === null;
    follow(build, drv ? { derivation: drv } : {}, (l) => l.source === "build", drv ? "This derivation has printed nothing (yet)." : "No build output yet.");
  }

  showAll.addEventListener("click", () => showDerivation(null));
  const element = h(
    "div",
    { class: "logs" },
    h("section", { class: "card", "aria-labelledby": "log-title" }, h("div", { class: "card-head" }, title, showAll), scopeText, build.status, build.list),
    h("section", { class: "card", "aria-labelledby": "deploy-title" }, h("h2", { id: "deploy-title" }, "Deploy output"), deploy.status, deploy.list),
  );
  showDerivation(null);
  return {
    element,
    showDerivation,
    startDeploy() {
      if (deployStarted) return;
      deployStarted = true;
      follow(deploy, {}, (l) => l.source === "deploy", "The deploy step printed nothing.");
    },
    noDeploy(text) {
      if (!deployStarted) deploy.status.textContent = text;
    },
    dispose() {
      build.generation++;
      deploy.generation++;
      build.handle?.cancel();
      deploy.handle?.cancel();
    },
  };
}
