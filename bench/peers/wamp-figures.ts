/**
 * The router half of bench/peers.ts: the embedded router against the Node WAMP routers on npm,
 * each in its own process, driven by the same two client processes (./wamp-client-host.ts) with
 * the same frames, interleaved run by run.
 */
import { startChild, type ChildLink } from "./child-link.js";
import type { LoadWatch } from "./load-watch.js";
import type { RouterKind } from "./wamp-router-host.js";

export interface WampSizes {
  /** Publications per run to one subscriber. */
  readonly events1: number;
  /** Publications per run to ten subscribers (each delivered ten times). */
  readonly events10: number;
  readonly calls1: number;
  readonly calls50: number;
  /** Idle sessions per memory run. */
  readonly idle: number;
  /** Longest a run may take before it is cut short and reported as incomplete. */
  readonly runTimeoutMs: number;
}

/** One run: the figure's value and, where it applies, the router's CPU per operation. */
export interface Sample {
  readonly value: number;
  readonly cpuUsPerOp?: number;
  /** CPU of both client processes per operation: evidence that the clients were not the limit. */
  readonly clientCpuUsPerOp?: number;
  /** Set when the run did not finish (timeout, lost messages): value is then the partial rate. */
  readonly incomplete?: string;
  /** For memory runs: the RSS figure beside the heap figure (bytes per session). */
  readonly rssPerSession?: number;
}

export type WampFigure = "events-1" | "events-10" | "rpc-1" | "rpc-50" | "idle-memory";

export const wampFigures: readonly WampFigure[] = ["events-1", "events-10", "rpc-1", "rpc-50", "idle-memory"];

export interface WampBench {
  run(figure: WampFigure, router: RouterKind): Promise<Sample>;
  close(): Promise<void>;
}

export async function createWampBench(routers: readonly RouterKind[], sizes: WampSizes, load: LoadWatch): Promise<WampBench> {
  const tracked = async (link: Promise<ChildLink>): Promise<ChildLink> => {
    const l = await link;
    load.track(l.pid);
    return l;
  };
  // Two client processes, so that publisher and subscribers (caller and callee) do not share a loop.
  const clientA = await tracked(startChild("./wamp-client-host.ts", []));
  const clientB = await tracked(startChild("./wamp-client-host.ts", []));
  const hosts = new Map<RouterKind, ChildLink>();
  for (const kind of routers) hosts.set(kind, await tracked(startChild("./wamp-router-host.ts", [kind])));

  const timeout = sizes.runTimeoutMs;
  const cpuStart = (host: ChildLink): Promise<unknown> =>
    Promise.all([host, clientA, clientB].map((l) => l.request({ cmd: "cpu-start" })));
  /** Router µs and both clients' µs since cpuStart. */
  const cpuStop = async (host: ChildLink): Promise<{ router: number; clients: number }> => {
    const [router, a, b] = await Promise.all([host, clientA, clientB].map((l) => l.request<{ us: number }>({ cmd: "cpu-stop" })));
    return { router: router!.us, clients: a!.us + b!.us };
  };
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

  async function events(host: ChildLink, subscribers: number, count: number): Promise<Sample> {
    const url = host.hello.url as string;
    try {
      await clientA.request({ cmd: "subscribe", url, connections: subscribers, expect: count });
      await cpuStart(host);
      const arrived = clientA.request<{ received: number; expected: number; ms: number }>({ cmd: "await-events", timeoutMs: timeout }, timeout + 30_000);
      const published = clientB.request({ cmd: "publish", url, count }, timeout + 30_000).catch((e: Error) => e);
      const got = await arrived;
      const cpu = await cpuStop(host);
      const pub = await published;
      const publications = got.received / subscribers;
      const value = got.ms > 0 ? (publications / got.ms) * 1000 : NaN;
      const incomplete =
        pub instanceof Error ? pub.message : got.received < got.expected ? `${got.received} of ${got.expected} events arrived` : undefined;
      return { value, cpuUsPerOp: cpu.router / count, clientCpuUsPerOp: cpu.clients / count, ...(incomplete ? { incomplete } : {}) };
    } finally {
      await Promise.all([clientA.request({ cmd: "close-all" }), clientB.request({ cmd: "close-all" })]);
      await settle();
    }
  }

  async function calls(host: ChildLink, inFlight: number, count: number): Promise<Sample> {
    const url = host.hello.url as string;
    try {
      await clientA.request({ cmd: "register", url });
      await cpuStart(host);
      const r = await clientB
        .request<{ completed: number; ms: number }>({ cmd: "call", url, count, inFlight, timeoutMs: timeout }, timeout + 30_000)
        .catch((e: Error) => e);
      const cpu = await cpuStop(host);
      if (r instanceof Error) return { value: NaN, incomplete: r.message };
      const incomplete = r.completed < count ? `${r.completed} of ${count} calls completed` : undefined;
      const ops = Math.max(1, r.completed);
      return {
        value: (r.completed / r.ms) * 1000,
        cpuUsPerOp: cpu.router / ops,
        clientCpuUsPerOp: cpu.clients / ops,
        ...(incomplete ? { incomplete } : {}),
      };
    } finally {
      await Promise.all([clientA.request({ cmd: "close-all" }), clientB.request({ cmd: "close-all" })]);
      await settle();
    }
  }

  /**
   * A fresh router process per run. Warm sessions first (code paths compiled, one-time
   * allocations made), then the heap and RSS after two full GCs, then `idle` more sessions and
   * the same again: the difference divided by `idle` is what one idle session costs the router.
   */
  async function idleMemory(kind: RouterKind): Promise<Sample> {
    const host = await tracked(startChild("./wamp-router-host.ts", [kind], { exposeGc: true }));
    const url = host.hello.url as string;
    try {
      await clientA.request({ cmd: "idle", url, connections: 100 });
      await settle();
      const before = await host.request<{ heapUsed: number; rss: number }>({ cmd: "memory" });
      await clientA.request({ cmd: "idle", url, connections: sizes.idle });
      await settle();
      const after = await host.request<{ heapUsed: number; rss: number }>({ cmd: "memory" });
      return { value: (after.heapUsed - before.heapUsed) / sizes.idle, rssPerSession: (after.rss - before.rss) / sizes.idle };
    } finally {
      await clientA.request({ cmd: "close-all" });
      load.untrack(host.pid);
      await host.close();
    }
  }

  // Warm-up, not recorded: JIT and first-connection costs of both clients and every router.
  // A router that cannot finish them is not measured at all.
  for (const [kind, host] of hosts) {
    for (const s of [await events(host, 1, Math.min(5000, sizes.events1)), await calls(host, 50, Math.min(5000, sizes.calls50))]) {
      if (s.incomplete) {
        await Promise.all([...hosts.values(), clientA, clientB].map((l) => l.close()));
        throw new Error(`${kind} failed its warm-up run: ${s.incomplete}`);
      }
    }
  }

  return {
    run(figure, kind) {
      const host = hosts.get(kind)!;
      switch (figure) {
        case "events-1":
          return events(host, 1, sizes.events1);
        case "events-10":
          return events(host, 10, sizes.events10);
        case "rpc-1":
          return calls(host, 1, sizes.calls1);
        case "rpc-50":
          return calls(host, 50, sizes.calls50);
        case "idle-memory":
          return idleMemory(kind);
        default: {
          const never: never = figure;
          throw new Error(`unknown figure ${String(never)}`);
        }
      }
    },
    async close() {
      await Promise.all([...hosts.values(), clientA, clientB].map((l) => l.close()));
    },
  };
}
