/**
 * Console benchmark: `npx tsx bench/console.ts [--nodes 2000] [--runs 3] [--rate 200] [--secs 10]
 * [--compare-layouts] [--screenshot file.png]`.
 *
 * In Debian's Chromium (headless, as the tests run it): the console's own graph code (model, ELK in
 * its Web Worker, SVG view; src/console/browser/graph-bench.ts) on a synthetic Nix-like graph
 * (synthetic-graph.ts). Prints the first render of the graph — from the data being there to the
 * first painted frame, on a fresh page each run, once after ELK's worker has warmed up as the
 * deployment page lets it (graph-layouter.ts) and once with the data there at once — and the frame
 * times while derivation events arrive at `rate` per second. `--compare-layouts` also times @dagrejs/dagre against ELK in Node on
 * the same graph, the measurement behind the choice of ELK (docs/console.md).
 */
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { pageHeaders } from "../src/console/security-headers.js";
import { transitiveReduction, createGraphModel } from "../src/console/browser/graph-model.js";
import { layoutInput } from "../src/console/browser/graph-layout.js";
import { syntheticGraph } from "../src/console/browser/synthetic-graph.js";
import { launchChromium } from "../test/console/console-harness.js";
import { repoRoot } from "../test/helpers/e2e-service.js";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "2000" },
    runs: { type: "string", default: "3" },
    rate: { type: "string", default: "200" },
    secs: { type: "string", default: "10" },
    "compare-layouts": { type: "boolean", default: false },
    screenshot: { type: "string" },
  },
});
const nodes = Number(values.nodes);
const runs = Number(values.runs);
const rate = Number(values.rate);
const secs = Number(values.secs);
const require = createRequire(import.meta.url);

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function servePage(): Promise<{ server: Server; url: string }> {
  const bundle = await build({
    entryPoints: [join(repoRoot, "src/console/browser/graph-bench.ts")],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "browser",
    outfile: "bench.js",
    logLevel: "silent",
  });
  const files = new Map<string, { type: string; body: Buffer }>([
    ["/", { type: "text/html; charset=utf-8", body: Buffer.from('<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="/app.css"><script type="module" src="/bench.js"></script></head><body></body></html>') }],
    ["/bench.js", { type: "text/javascript", body: Buffer.from(bundle.outputFiles[0]?.contents ?? new Uint8Array()) }],
    ["/elk-worker.js", { type: "text/javascript", body: await import("node:fs/promises").then((fs) => fs.readFile(require.resolve("elkjs/lib/elk-worker.min.js"))) }],
    ["/app.css", { type: "text/css", body: await import("node:fs/promises").then((fs) => fs.readFile(join(repoRoot, "src/console/browser/console.css"))) }],
  ]);
  const server = createServer((req, res) => {
    const f = files.get(req.url ?? "");
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": f.type, ...pageHeaders() }).end(f.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  return { server, url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/` };
}

async function browserFigures(): Promise<void> {
  const { server, url } = await servePage();
  const browser = await launchChromium();
  try {
    type Render = { layoutMs: number; firstRenderMs: number; mode: string; edges: number };
    const renders: { cold: Render[]; warm: Render[] } = { cold: [], warm: [] };
    let frames: number[] = [];
    let events = 0;
    for (let i = 0; i < runs; i++) {
      for (const kind of ["cold", "warm"] as const) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        await page.goto(url);
        await page.waitForFunction(() => "graphBench" in globalThis);
        const r = await page.evaluate(
          async ([n, w]) => (globalThis as unknown as { graphBench: { render(n: number, w: boolean): Promise<Render> } }).graphBench.render(n as number, w as boolean),
          [nodes, kind === "warm"],
        );
        renders[kind].push(r);
        if (i === 0 && kind === "warm" && values.screenshot) await page.screenshot({ path: values.screenshot });
        if (i === runs - 1 && kind === "warm") {
          const s = await page.evaluate(
            async ([rt, sc]) => (globalThis as unknown as { graphBench: { stream(r: number, s: number): Promise<{ frames: number[]; events: number }> } }).graphBench.stream(rt as number, sc as number),
            [rate, secs],
          );
          frames = s.frames;
          events = s.events;
        }
        await context.close();
      }
    }
    const line = (what: string, rs: Render[]) => {
      const first = rs.map((r) => r.firstRenderMs);
      const layout = rs.map((r) => r.layoutMs);
      return `first render ${what}, ${rs.length} fresh pages: median ${pct(first, 50).toFixed(0)} ms, max ${Math.max(...first).toFixed(0)} ms (of which ELK layout: median ${pct(layout, 50).toFixed(0)} ms)  [target < 1500 ms]`;
    };
    process.stdout.write(
      [
        `graph: ${nodes} nodes, ${renders.cold[0]?.edges} edges, layout mode ${renders.cold[0]?.mode}; load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`,
        line("(data → first painted frame), ELK's worker warmed up as the deployment page does it", renders.warm),
        line("(data → first painted frame), data at once, ELK's worker still cold", renders.cold),
        `frames while ${events} derivation events arrived in ${secs} s (${(events / secs).toFixed(0)}/s): ${frames.length} frames, p50 ${pct(frames, 50).toFixed(1)} ms, p95 ${pct(frames, 95).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms  [target p95 < 50 ms]`,
        "",
      ].join("\n"),
    );
  } finally {
    await browser.close();
    server.close();
  }
}

async function compareLayouts(): Promise<void> {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const model = createGraphModel(syntheticGraph(nodes));
  const reduced = transitiveReduction(model);
  const input = layoutInput(model);
  const { default: dagre } = await import("@dagrejs/dagre");
  const ELK = require("elkjs/lib/elk.bundled.js") as new () => { layout(g: unknown): Promise<unknown> };
  const lines: string[] = [`layout libraries in Node on the same ${nodes}-node graph (CPU ms; load average ${loadavg()[0]?.toFixed(1)}):`];
  const time = async (name: string, run: () => Promise<unknown> | unknown) => {
    const c = cpu();
    await run();
    lines.push(`  ${name}: ${(cpu() - c).toFixed(0)} ms`);
  };
  const dagreRun = (edges: readonly [string, string][], fast: boolean) => () => {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", ranker: "longest-path", nodesep: 8, ranksep: 36 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const c of input.graph.children ?? []) g.setNode(c.id, { width: c.width ?? 100, height: c.height ?? 26 });
    for (const [from, to] of edges) g.setEdge(from, to);
    dagre.layout(g, fast ? { disableOptimalOrderHeuristic: true } : {});
  };
  const elk = new ELK();
  const backbone = (input.graph.edges ?? []).map((e) => [e.sources[0], e.targets[0]] as [string, string]);
  await time(`ELK, what the console runs (${input.mode}: ${backbone.length} routed edges)`, () => elk.layout(structuredClone(input.graph)));
  await time(`ELK again (warm)`, () => elk.layout(structuredClone(input.graph)));
  await time(`ELK, all ${reduced.length} edges of the reduction, crossing minimisation on`, () =>
    elk.layout({ ...structuredClone(input.graph), layoutOptions: { ...input.graph.layoutOptions, "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP", "elk.layered.greedySwitch.type": "TWO_SIDED" }, edges: reduced.map(([a, b], i) => ({ id: `r${i}`, sources: [a], targets: [b] })) }),
  );
  await time(`dagre, the same ${backbone.length} backbone edges, ordering heuristic off`, dagreRun(backbone, true));
  await time(`dagre, all ${reduced.length} edges of the reduction`, dagreRun(reduced, false));
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (values["compare-layouts"]) await compareLayouts();
await browserFigures();
