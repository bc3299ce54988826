/**
 * Side by side with peers, in one command: `npx tsx bench/peers.ts [--json] [--pairs 5] ...`.
 *
 * 1. The embedded router (src/router) against fox-wamp and wamp-server from npm: every router in
 *    a process of its own, driven by the same lean clients (raw WebSocket frames, hand-written
 *    WAMP JSON, two client processes) with the same payloads. Events/s to 1 and to 10
 *    subscribers, RPC calls/s with 1 and with 50 in flight (each also as the router process's CPU
 *    µs per publication or call), and the memory of an idle session (JS heap and RSS after two
 *    full GCs, per session, in a fresh router process per run). JSON only: fox-wamp speaks
 *    nothing else over WebSocket, wamp-server neither.
 * 2. The rio client (src/rio, follow) against a bare @grpc/grpc-js reader of the same stream, both
 *    reading the local scheduler's synthetic events: events/s and the reader process's CPU µs per
 *    event, a fresh reader process per run.
 * Runs are interleaved (A B C, A B C, ...); each figure prints the median per column with the half
 * range of its runs, and the ratio of the first column to each other column per pair (median and
 * range). The load average is checked before and during; a busy machine gets a warning.
 *
 * Options: --json (JSON on stdout, the table then goes to stderr), --pairs N (default 5), --only wamp|rio,
 *   --routers embedded,fox-wamp,wamp-server, --readers rio,grpc-js,
 *   --events1 N, --events10 N, --calls1 N, --calls50 N, --idle N, --rio-events N, --quick.
 */
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { loadWarning, startLoadWatch, type LoadReport } from "./peers/load-watch.js";
import { renderSection, summarise, type Row, type Section } from "./peers/report.js";
import { createRioBench } from "./peers/rio-figures.js";
import type { ReaderVariant } from "./peers/rio-reader.js";
import { createWampBench, wampFigures, type Sample, type WampFigure } from "./peers/wamp-figures.js";
import type { RouterKind } from "./peers/wamp-router-host.js";

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    pairs: { type: "string" },
    only: { type: "string" },
    routers: { type: "string", default: "embedded,fox-wamp,wamp-server" },
    readers: { type: "string", default: "rio,grpc-js" },
    events1: { type: "string" },
    events10: { type: "string" },
    calls1: { type: "string" },
    calls50: { type: "string" },
    idle: { type: "string" },
    "rio-events": { type: "string" },
    quick: { type: "boolean", default: false },
  },
});

const quick = args.quick;
const num = (v: string | undefined, normal: number, small: number): number => {
  const n = v === undefined ? (quick ? small : normal) : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
};
const pairs = num(args.pairs, 5, 2);
const routers = args.routers.split(",") as RouterKind[];
const readers = args.readers.split(",") as ReaderVariant[];
for (const r of routers) if (!["embedded", "fox-wamp", "wamp-server"].includes(r)) throw new Error(`unknown router ${r}`);
for (const r of readers) if (!["rio", "grpc-js"].includes(r)) throw new Error(`unknown reader ${r}`);
const sizes = {
  events1: num(args.events1, 100_000, 10_000),
  events10: num(args.events10, 50_000, 5_000),
  calls1: num(args.calls1, 10_000, 2_000),
  calls50: num(args.calls50, 50_000, 5_000),
  idle: num(args.idle, 1000, 200),
  runTimeoutMs: 120_000,
};
const rioEvents = num(args["rio-events"], 100_000, 20_000);
const rioSizes = { events: rioEvents, skip: Math.floor(rioEvents / 10), runTimeoutMs: 180_000 };

const require = createRequire(import.meta.url);
const versionOf = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;
const headers: Record<string, string> = {
  embedded: "embedded",
  "fox-wamp": `fox-wamp ${versionOf("fox-wamp")}`,
  "wamp-server": `wamp-server ${versionOf("wamp-server")}`,
  rio: "rio client",
  "grpc-js": `bare grpc-js ${versionOf("@grpc/grpc-js")}`,
};
const progress = (text: string): void => void process.stderr.write(`${text}\n`);

const load = startLoadWatch();
const sections: Section[] = [];
const incomplete: string[] = [];
const record = (where: string, s: Sample): number => {
  if (s.incomplete) incomplete.push(`${where}: ${s.incomplete}`);
  return s.value;
};

if (args.only !== "rio") {
  progress(`routers: starting ${routers.join(", ")} and two client processes, warming up…`);
  const bench = await createWampBench(routers, sizes, load);
  const values = new Map<WampFigure, Record<string, number[]>>();
  const cpu = new Map<WampFigure, Record<string, number[]>>();
  const rss: Record<string, number[]> = {};
  const clientCpu = new Map<WampFigure, Record<string, number[]>>();
  for (const figure of wampFigures) {
    values.set(figure, Object.fromEntries(routers.map((r) => [r, []])));
    cpu.set(figure, Object.fromEntries(routers.map((r) => [r, []])));
    clientCpu.set(figure, Object.fromEntries(routers.map((r) => [r, []])));
    for (let pair = 0; pair < pairs; pair++) {
      for (const router of routers) {
        const s = await bench.run(figure, router);
        values.get(figure)![router]!.push(record(`${figure} ${router} run ${pair + 1}`, s));
        if (s.cpuUsPerOp !== undefined) cpu.get(figure)![router]!.push(s.cpuUsPerOp);
        if (s.clientCpuUsPerOp !== undefined) clientCpu.get(figure)![router]!.push(s.clientCpuUsPerOp);
        if (s.rssPerSession !== undefined) (rss[router] ??= []).push(s.rssPerSession / 1024);
      }
    }
    progress(`routers: ${figure} done (${pairs} pairs)`);
  }
  await bench.close();
  const rate = (figure: WampFigure, label: string): Row => ({ label, unit: "rate", higherIsBetter: true, samples: values.get(figure)! });
  const cpuRow = (figure: WampFigure, label: string): Row => ({ label, unit: "us", higherIsBetter: false, samples: cpu.get(figure)! });
  // Same unit as the router's row above it: where the clients cost as much as the router, the
  // rate is partly the clients' and the router CPU ratio is the better measure of the router.
  const clientRow = (figure: WampFigure): Row => ({ label: "  clients' CPU µs, same unit", unit: "us", higherIsBetter: false, samples: clientCpu.get(figure)! });
  const kib = (samples: Record<string, number[]>): Record<string, number[]> =>
    Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => x / 1024)]));
  sections.push({
    title: "WAMP routers: the same raw-frame clients (WAMP JSON over WebSocket) in two processes, each router in its own process",
    columns: routers,
    headers,
    rows: [
      rate("events-1", "events/s, 1 subscriber"),
      cpuRow("events-1", "  router CPU µs per publication"),
      clientRow("events-1"),
      rate("events-10", "publications/s, 10 subscribers"),
      cpuRow("events-10", "  router CPU µs per publication (10 deliveries)"),
      clientRow("events-10"),
      rate("rpc-1", "RPC calls/s, 1 in flight"),
      cpuRow("rpc-1", "  router CPU µs per call"),
      clientRow("rpc-1"),
      rate("rpc-50", "RPC calls/s, 50 in flight"),
      cpuRow("rpc-50", "  router CPU µs per call"),
      clientRow("rpc-50"),
      { label: "idle session: JS heap KiB", unit: "kib", higherIsBetter: false, samples: kib(values.get("idle-memory")!) },
      { label: "idle session: RSS KiB", unit: "kib", higherIsBetter: false, samples: rss },
    ],
    notes: [
      `runs: ${sizes.events1.toLocaleString("en-US")} publications to 1 subscriber, ${sizes.events10.toLocaleString("en-US")} to 10, ` +
        `${sizes.calls1.toLocaleString("en-US")} and ${sizes.calls50.toLocaleString("en-US")} calls; rates are taken at the receiving client (first to last event, first call to last result)`,
      `idle session: a fresh router process per run; 100 warm sessions, then heapUsed and RSS after two full GCs, then ` +
        `${sizes.idle} more idle anonymous sessions and the same again; (after − before) / ${sizes.idle}`,
      "router CPU: user+system time of the router process over the run (process.cpuUsage), divided by publications or calls",
      "clients' CPU: both client processes (publisher and subscribers, or caller and callee) over the same run, per publication or call",
    ],
  });
}

if (args.only !== "wamp") {
  progress(`rio: starting the local scheduler with a live build (Nix), warming up…`);
  const bench = await createRioBench(rioSizes, load);
  const rates: Record<string, number[]> = Object.fromEntries(readers.map((r) => [r, []]));
  const cpus: Record<string, number[]> = Object.fromEntries(readers.map((r) => [r, []]));
  for (let pair = 0; pair < pairs; pair++) {
    for (const reader of readers) {
      const r = await bench.run(reader);
      rates[reader]!.push(record(`rio ${reader} run ${pair + 1}`, r.rate));
      cpus[reader]!.push(r.cpu.value);
    }
    progress(`rio: pair ${pair + 1} of ${pairs} done`);
  }
  await bench.close();
  sections.push({
    title: "rio client against a bare @grpc/grpc-js reader: WatchBuild on the local scheduler, synthetic log events",
    columns: readers,
    headers,
    rows: [
      { label: "BuildEvents/s, end to end", unit: "rate", higherIsBetter: true, samples: rates },
      { label: "reader CPU µs per event", unit: "us", higherIsBetter: false, samples: cpus },
    ],
    notes: [
      `runs: ${rioSizes.events.toLocaleString("en-US")} injected events, a fresh reader process per run, measured from event ` +
        `${rioSizes.skip.toLocaleString("en-US")} to the last; CPU is the reader process's user+system time (process.cpuUsage)`,
      "events/s is end to end: the scheduler emitting and encoding on the same 2 cores can be what limits it",
    ],
  });
}

const loadReport: LoadReport = load.stop();
const warning = loadWarning(loadReport);
const targets = checkTargets(sections);

const table: string[] = [];
table.push(`peers benchmark: node ${process.version}, ${loadReport.cores} cores, ${pairs} interleaved runs per column; median ±half-range, ratios per pair: median (min–max)`);
table.push(loadText(loadReport));
if (warning) table.push(`WARNING: ${warning}`);
for (const s of sections) table.push("", renderSection(s));
if (targets.length > 0) {
  table.push("", "targets (issue 15), on the median pair ratio:");
  for (const t of targets) table.push(`  ${t.met ? "met    " : "not met"}  ${t.text}`);
}
if (incomplete.length > 0) {
  table.push("", "incomplete runs (their partial rate is in the figures):");
  for (const i of incomplete) table.push(`  ${i}`);
}

if (args.json) {
  // JSON on stdout for tools, the table on stderr for the person who ran it.
  process.stderr.write(`${table.join("\n")}\n`);
  console.log(
    JSON.stringify(
      {
        node: process.version,
        pairs,
        sizes: { ...sizes, rio: rioSizes },
        load: loadReport,
        warning: warning ?? null,
        sections: sections.map((s) => ({ title: s.title, columns: s.columns, headers: s.headers, rows: s.rows.map((r) => summarise(r, s.columns)), notes: s.notes })),
        targets,
        incomplete,
      },
      null,
      2,
    ),
  );
} else {
  console.log(table.join("\n"));
}

function loadText(r: LoadReport): string {
  const others = Number.isFinite(r.othersRunnable) ? `; runnable threads of other processes during the runs: ${r.othersRunnable.toFixed(1)} on average` : "";
  return `load average (1 min): ${r.before.toFixed(2)} before, up to ${r.duringMax.toFixed(2)} during${others}`;
}

interface Target {
  readonly text: string;
  readonly met: boolean;
}

/** The goals of issue 15, checked against the median pair ratios (and medians) just measured. */
function checkTargets(all: readonly Section[]): Target[] {
  const out: Target[] = [];
  const find = (label: string) => {
    for (const s of all) {
      const row = s.rows.find((r) => r.label === label);
      if (row) return summarise(row, s.columns);
    }
    return undefined;
  };
  // A figure's CPU row follows its rate row (the two CPU-per-call rows share a label).
  const findAfter = (label: string, next: string) => {
    for (const s of all) {
      const i = s.rows.findIndex((r) => r.label === label);
      const row = i >= 0 ? s.rows[i + 1] : undefined;
      if (row && row.label === next) return summarise(row, s.columns);
    }
    return undefined;
  };
  const rateAndCpu: [string, string][] = [
    ["events/s, 1 subscriber", "  router CPU µs per publication"],
    ["publications/s, 10 subscribers", "  router CPU µs per publication (10 deliveries)"],
    ["RPC calls/s, 1 in flight", "  router CPU µs per call"],
    ["RPC calls/s, 50 in flight", "  router CPU µs per call"],
  ];
  for (const [label, cpuLabel] of rateAndCpu) {
    const r = find(label)?.ratios["fox-wamp"];
    const cpu = findAfter(label, cpuLabel)?.ratios["fox-wamp"];
    if (!r || !Number.isFinite(r.median)) continue;
    const byCpu = cpu && Number.isFinite(cpu.median) ? `; by router CPU per operation ${(1 / cpu.median).toFixed(2)}×` : "";
    out.push({ text: `${label}: embedded ≥ 2× fox-wamp (${r.median.toFixed(2)}× by rate${byCpu})`, met: r.median >= 2 });
  }
  const heap = find("idle session: JS heap KiB");
  const foxHeap = heap?.ratios["fox-wamp"];
  if (foxHeap && Number.isFinite(foxHeap.median)) {
    out.push({ text: `idle session heap: embedded ≤ 1× fox-wamp (${foxHeap.median.toFixed(2)}×)`, met: foxHeap.median <= 1 });
  }
  const own = heap?.medians["embedded"]?.median;
  if (own !== undefined && Number.isFinite(own)) out.push({ text: `idle session heap: embedded ≤ 4 KiB (${own.toFixed(2)} KiB)`, met: own <= 4 });
  const rioCpu = find("reader CPU µs per event")?.ratios["grpc-js"];
  if (rioCpu && Number.isFinite(rioCpu.median)) {
    out.push({ text: `rio client CPU per event ≤ 1.15× the bare grpc-js reader (${rioCpu.median.toFixed(2)}×)`, met: rioCpu.median <= 1.15 });
  }
  return out;
}
