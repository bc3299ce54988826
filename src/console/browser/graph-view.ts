/**
 * The derivation graph drawn in SVG: one box per derivation coloured (and marked with a symbol, so
 * colour is not the only cue) by status, the critical path outlined, pan and zoom. Keyboard: the
 * graph is one tab stop, a listbox whose options are the derivations; arrow keys move between
 * neighbouring boxes, Enter or Space selects one (the page then filters the log to it). Status
 * changes are batched into one DOM update per animation frame.
 */
import { h, s } from "./dom.js";
import type { GraphLayout, NodeBox } from "./graph-layout.js";
import type { GraphModel, ModelNode, NodeStatus } from "./graph-model.js";

export const statusSymbol: Record<NodeStatus, string> = {
  queued: "○",
  running: "▶",
  cached: "◆",
  built: "✓",
  failed: "✗",
  skipped: "–",
};

export const statusLabel: Record<NodeStatus, string> = {
  queued: "queued",
  running: "running",
  cached: "cached",
  built: "built",
  failed: "failed",
  skipped: "not built",
};

export interface GraphView {
  readonly element: HTMLElement;
  /** Draws a model with its layout (replaces what was there). */
  draw(model: GraphModel, layout: GraphLayout): void;
  /** Marks nodes whose status changed; redrawn on the next frame. */
  touch(drv: string): void;
  setCriticalPath(path: readonly string[]): void;
  select(drv: string | null): void;
  /** Resolves after the next frame has painted the pending changes. */
  flushed(): Promise<void>;
  dispose(): void;
}

interface Drawn {
  readonly g: SVGGElement;
  readonly label: SVGTextElement;
  readonly box: NodeBox;
  readonly index: number;
}

export function createGraphView(opts: { label: string; onSelect: (drv: string) => void }): GraphView {
  const svg = s("svg", { class: "graph-svg", "aria-hidden": "false", focusable: "false" });
  const edgeLayer = s("g", { class: "edges" });
  const nodeLayer = s("g", { class: "nodes" });
  svg.append(edgeLayer, nodeLayer);
  const canvas = h("div", {
    class: "graph-canvas",
    tabindex: 0,
    role: "listbox",
    "aria-label": opts.label,
    "aria-describedby": "graph-help",
  });
  canvas.append(svg);
  const zoomIn = h("button", { type: "button", onclick: () => zoom(0.7) }, "Zoom in");
  const zoomOut = h("button", { type: "button", onclick: () => zoom(1 / 0.7) }, "Zoom out");
  const fit = h("button", { type: "button", onclick: () => fitAll() }, "Fit");
  const help = h("p", { id: "graph-help", class: "hint" }, "Arrow keys move between derivations, Enter shows a derivation's log. Drag to pan, Ctrl + wheel to zoom.");
  const element = h("div", { class: "graph" }, h("div", { class: "graph-toolbar" }, zoomIn, zoomOut, fit), canvas, help);

  let model: GraphModel | null = null;
  let drawn = new Map<string, Drawn>();
  let byIndex: string[] = [];
  let edgePaths = new Map<string, SVGPathElement>();
  let onPath = new Set<string>();
  let pathEdges: SVGPathElement[] = [];
  let selected: string | null = null;
  let active: string | null = null;
  let view = { x: 0, y: 0, w: 100, h: 100 };
  let bounds = { w: 100, h: 100 };
  const pending = new Set<string>();
  let frame = 0;
  let frameWaiters: (() => void)[] = [];

  let far = false;
  function setView(v: typeof view): void {
    view = v;
    svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
    // Zoomed far out the labels are unreadable specks that cost most of each repaint: hidden.
    const pxPerUnit = (canvas.clientWidth || 800) / v.w;
    if (pxPerUnit < 0.4 !== far) {
      far = !far;
      svg.classList.toggle("far", far);
    }
  }

  /** Never enlarged; shrunk to fit, but small graphs not below a readable size (then panned). */
  function fitScale(cw: number, ch: number): number {
    const scale = Math.min(cw / bounds.w, ch / bounds.h, 1);
    return drawn.size <= 300 ? Math.max(scale, 0.6) : scale;
  }

  function fitAll(): void {
    const r = canvas.getBoundingClientRect();
    const cw = r.width || 800;
    const ch = r.height || 400;
    const scale = fitScale(cw, ch);
    const w = cw / scale;
    const hh = ch / scale;
    // Centred when it fits; otherwise from the left, where the build starts.
    setView({ x: bounds.w <= w ? (bounds.w - w) / 2 : 0, y: bounds.h <= hh ? (bounds.h - hh) / 2 : 0, w, h: hh });
  }

  /** A short graph gets a short canvas (up to the height the stylesheet allows). */
  function sizeCanvas(): void {
    canvas.style.height = "";
    const r = canvas.getBoundingClientRect();
    const max = r.height || 400;
    const want = Math.min(max, Math.max(160, bounds.h * Math.min((r.width || 800) / bounds.w, 1) + 16));
    canvas.style.height = `${Math.round(want)}px`;
  }

  function zoom(factor: number, cx = view.x + view.w / 2, cy = view.y + view.h / 2): void {
    const w = Math.min(Math.max(view.w * factor, 80), Math.max(bounds.w, bounds.h) * 4);
    const k = w / view.w;
    setView({ x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w, h: view.h * k });
  }

  function classOf(n: ModelNode, drv: string): string {
    return `node st-${n.status}${onPath.has(drv) ? " on-path" : ""}${selected === drv ? " selected" : ""}${active === drv ? " active" : ""}`;
  }

  function labelText(n: ModelNode, box: NodeBox): string {
    const room = Math.max(Math.floor((box.width - 36) / 7.2), 4);
    const name = n.pname.length > room ? `${n.pname.slice(0, room - 1)}…` : n.pname;
    return `${statusSymbol[n.status]} ${name}`;
  }

  function paint(drv: string): void {
    const d = drawn.get(drv);
    const n = model?.nodes.get(drv);
    if (!d || !n) return;
    d.g.setAttribute("class", classOf(n, drv));
    d.g.setAttribute("aria-label", `${n.pname}: ${statusLabel[n.status]}${onPath.has(drv) ? ", on the critical path" : ""}`);
    d.g.setAttribute("aria-selected", selected === drv ? "true" : "false");
    d.label.textContent = labelText(n, d.box);
  }

  function schedule(): void {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      for (const drv of pending) paint(drv);
      pending.clear();
      const waiters = frameWaiters;
      frameWaiters = [];
      // Resolved after the browser has painted this frame.
      requestAnimationFrame(() => waiters.forEach((w) => w()));
    });
  }

  function edgeKey(from: string, to: string): string {
    return `${from}\n${to}`;
  }

  function draw(m: GraphModel, layout: GraphLayout): void {
    model = m;
    edgeLayer.replaceChildren();
    nodeLayer.replaceChildren();
    drawn = new Map();
    edgePaths = new Map();
    byIndex = [];
    const edgeFrag = document.createDocumentFragment();
    for (const e of layout.edges) {
      const a = layout.boxes.get(e.from);
      const b = layout.boxes.get(e.to);
      if (!a || !b) continue;
      let d: string;
      if (e.points && e.points.length >= 2) {
        d = e.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
      } else {
        const x1 = a.x + a.width;
        const y1 = a.y + a.height / 2;
        const x2 = b.x;
        const y2 = b.y + b.height / 2;
        const mx = (x1 + x2) / 2;
        d = `M${x1.toFixed(1)} ${y1.toFixed(1)} C${mx.toFixed(1)} ${y1.toFixed(1)} ${mx.toFixed(1)} ${y2.toFixed(1)} ${x2.toFixed(1)} ${y2.toFixed(1)}`;
      }
      const path = s("path", { d, class: "edge" });
      edgePaths.set(edgeKey(e.from, e.to), path);
      edgeFrag.append(path);
    }
    edgeLayer.append(edgeFrag);
    const nodeFrag = document.createDocumentFragment();
    let i = 0;
    for (const [drv, box] of layout.boxes) {
      const n = m.nodes.get(drv);
      if (!n) continue;
      const label = s("text", { x: 8, y: box.height / 2, "dominant-baseline": "central" });
      const g = s(
        "g",
        { id: `gn-${i}`, role: "option", transform: `translate(${box.x.toFixed(1)} ${box.y.toFixed(1)})`, "data-drv": drv },
        s("rect", { width: box.width, height: box.height, rx: 4 }),
        label,
      );
      drawn.set(drv, { g, label, box, index: i });
      byIndex.push(drv);
      nodeFrag.append(g);
      paint(drv);
      i++;
    }
    nodeLayer.append(nodeFrag);
    // ELK's own width can leave out the last column's boxes: measure what is drawn.
    let maxX = layout.width;
    let maxY = layout.height;
    for (const b of layout.boxes.values()) {
      maxX = Math.max(maxX, b.x + b.width + 12);
      maxY = Math.max(maxY, b.y + b.height + 12);
    }
    bounds = { w: maxX, h: maxY };
    sizeCanvas();
    fitAll();
  }

  function setCriticalPath(path: readonly string[]): void {
    const next = new Set(path);
    for (const drv of onPath) if (!next.has(drv)) pending.add(drv);
    for (const drv of next) if (!onPath.has(drv)) pending.add(drv);
    onPath = next;
    for (const p of pathEdges) p.setAttribute("class", "edge");
    pathEdges = [];
    for (let i = 1; i < path.length; i++) {
      const p = edgePaths.get(edgeKey(path[i - 1] as string, path[i] as string));
      if (p) {
        p.setAttribute("class", "edge on-path");
        pathEdges.push(p);
      }
    }
    schedule();
  }

  function reveal(drv: string): void {
    const d = drawn.get(drv);
    if (!d) return;
    const { x, y, width, height } = d.box;
    if (x < view.x || y < view.y || x + width > view.x + view.w || y + height > view.y + view.h) {
      setView({ ...view, x: x + width / 2 - view.w / 2, y: y + height / 2 - view.h / 2 });
    }
  }

  function setActive(drv: string | null): void {
    const prev = active;
    active = drv;
    if (prev) pending.add(prev);
    if (drv) {
      pending.add(drv);
      const d = drawn.get(drv);
      if (d) canvas.setAttribute("aria-activedescendant", d.g.id);
      reveal(drv);
    } else canvas.removeAttribute("aria-activedescendant");
    schedule();
  }

  function select(drv: string | null): void {
    const prev = selected;
    selected = drv;
    if (prev) pending.add(prev);
    if (drv) pending.add(drv);
    schedule();
  }

  /** The nearest box in a direction from the active one. */
  function neighbour(key: string): string | null {
    const cur = active ? drawn.get(active) : undefined;
    if (!cur) return byIndex[0] ?? null;
    const cx = cur.box.x + cur.box.width / 2;
    const cy = cur.box.y + cur.box.height / 2;
    let best: string | null = null;
    let bestScore = Infinity;
    for (const [drv, d] of drawn) {
      if (drv === active) continue;
      const dx = d.box.x + d.box.width / 2 - cx;
      const dy = d.box.y + d.box.height / 2 - cy;
      let score: number;
      if (key === "ArrowRight") score = dx > 1 ? dx + 3 * Math.abs(dy) : Infinity;
      else if (key === "ArrowLeft") score = dx < -1 ? -dx + 3 * Math.abs(dy) : Infinity;
      else if (key === "ArrowDown") score = dy > 1 ? dy + 3 * Math.abs(dx) : Infinity;
      else score = dy < -1 ? -dy + 3 * Math.abs(dx) : Infinity;
      if (score < bestScore) {
        bestScore = score;
        best = drv;
      }
    }
    return best;
  }

  canvas.addEventListener("keydown", (e) => {
    if (e.key.startsWith("Arrow")) {
      e.preventDefault();
      const next = neighbour(e.key);
      if (next) setActive(next);
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (active) opts.onSelect(active);
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      setActive((e.key === "Home" ? byIndex[0] : byIndex[byIndex.length - 1]) ?? null);
    } else if (e.key === "+" || e.key === "=") zoom(0.7);
    else if (e.key === "-") zoom(1 / 0.7);
  });
  canvas.addEventListener("focus", () => {
    if (!active && byIndex.length > 0) setActive(selected ?? byIndex[0] ?? null);
  });

  // Pointer: click selects, drag pans.
  let drag: { x: number; y: number; vx: number; vy: number; moved: boolean } | null = null;
  canvas.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false };
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) canvas.setPointerCapture(e.pointerId);
    drag.moved = true;
    const r = canvas.getBoundingClientRect();
    const k = view.w / Math.max(r.width, 1);
    setView({ ...view, x: drag.vx - dx * k, y: drag.vy - dy * k });
  });
  canvas.addEventListener("pointerup", (e) => {
    const wasDrag = drag?.moved ?? false;
    drag = null;
    if (wasDrag) return;
    const target = (e.target as Element | null)?.closest("g[data-drv]");
    const drv = target?.getAttribute("data-drv");
    if (drv) {
      setActive(drv);
      opts.onSelect(drv);
    }
  });
  canvas.addEventListener(
    "wheel",
    (e) => {
      const r = canvas.getBoundingClientRect();
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        const cx = view.x + ((e.clientX - r.left) / r.width) * view.w;
        const cy = view.y + ((e.clientY - r.top) / r.height) * view.h;
        zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
      } else if (Math.abs(e.deltaX) > 0 || e.shiftKey) {
        e.preventDefault();
        const k = view.w / Math.max(r.width, 1);
        setView({ ...view, x: view.x + (e.deltaX || e.deltaY) * k });
      }
    },
    { passive: false },
  );
  const resize = new ResizeObserver(() => {
    if (model) fitAll();
  });
  resize.observe(canvas);

  return {
    element,
    draw,
    touch(drv) {
      pending.add(drv);
      schedule();
    },
    setCriticalPath,
    select,
    flushed() {
      return new Promise((resolve) => {
        frameWaiters.push(resolve);
        schedule();
      });
    },
    dispose() {
      resize.disconnect();
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
