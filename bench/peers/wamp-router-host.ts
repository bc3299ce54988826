/**
 * One WAMP router in a process of its own (bench/peers.ts): `embedded` (src/router, configured
 * as bench/router.ts drives it), `fox-wamp` or `wamp-server`, each listening on 127.0.0.1 only
 * and serving the realm `fediversity` to anonymous sessions over wamp.2.json.
 * Requests: `cpu-start`/`cpu-stop` (this process's user+system CPU between them, µs) and
 * `memory` (heapUsed, RSS, external after two full GCs; needs --expose-gc).
 */
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { createRouter } from "../../src/router/index.js";
import { serveParent } from "./child-link.js";

export type RouterKind = "embedded" | "fox-wamp" | "wamp-server";

interface Running {
  readonly url: string;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

async function startEmbedded(): Promise<Running> {
  // As bench/router.ts drives it: anonymous sessions, no authorizer, no pings, a send buffer
  // large enough that a burst of events never disconnects a subscriber (the peers have no bound).
  const router = createRouter({ anonymous: { role: "bench" }, maxBufferedBytes: 256 * 1024 * 1024, pingIntervalMs: 0 });
  const { url } = await router.listen({ host: "127.0.0.1", port: 0 });
  return { url, close: () => router.close() };
}

interface WsServerLike {
  on(event: "listening" | "error", cb: (err?: Error) => void): void;
  on(event: "connection", cb: (...args: unknown[]) => void): void;
  address(): AddressInfo | string | null;
  close(cb?: () => void): void;
}

function listening(server: WsServerLike): Promise<number> {
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.on("listening", () => resolve((server.address() as AddressInfo).port));
  });
}

async function startFoxWamp(): Promise<Running> {
  // fox-wamp's README: `new FoxRouter().listenWAMP(wsOptions)`; the options go to ws's Server.
  const FoxRouter = require("fox-wamp") as new () => { listenWAMP(options: object): WsServerLike };
  const server = new FoxRouter().listenWAMP({ host: "127.0.0.1", port: 0 });
  const port = await listening(server);
  return { url: `ws://127.0.0.1:${port}/ws`, close: () => new Promise((r) => server.close(() => r())) };
}

async function startWampServer(): Promise<Running> {
  // wamp-server's own Server class binds every interface and takes no host; this is the same
  // wiring (its SessionManager on its own ws 6 server) bound to loopback.
  const fromPackage = createRequire(require.resolve("wamp-server"));
  const { Server } = fromPackage("ws") as { Server: new (options: object) => WsServerLike };
  const sessions = (fromPackage("./release/session-manager") as {
    default: { registerRealms(realms: string[]): void; createSession(...args: unknown[]): void };
  }).default;
  sessions.registerRealms(["fediversity"]);
  const server = new Server({ host: "127.0.0.1", port: 0 });
  server.on("connection", sessions.createSession);
  const port = await listening(server);
  return { url: `ws://127.0.0.1:${port}/ws`, close: () => new Promise((r) => server.close(() => r())) };
}

function start(kind: RouterKind): Promise<Running> {
  switch (kind) {
    case "embedded":
      return startEmbedded();
    case "fox-wamp":
      return startFoxWamp();
    case "wamp-server":
      return startWampServer();
    default: {
      const never: never = kind;
      throw new Error(`unknown router ${String(never)}`);
    }
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
const running = await start(process.argv[2] as RouterKind);
let cpuFrom: NodeJS.CpuUsage | undefined;

serveParent(
  { url: running.url },
  async (m) => {
    switch (m.cmd) {
      case "cpu-start":
        cpuFrom = process.cpuUsage();
        return {};
      case "cpu-stop": {
        const used = process.cpuUsage(cpuFrom);
        return { us: used.user + used.system };
      }
      case "memory": {
        if (!gc) throw new Error("memory needs --expose-gc");
        // Twice, with a turn of the event loop between, so finalizers of the first pass run.
        gc();
        await new Promise((r) => setImmediate(r));
        gc();
        const mem = process.memoryUsage();
        return { heapUsed: mem.heapUsed, rss: mem.rss, external: mem.external };
      }
      default:
        throw new Error(`unknown request ${String(m.cmd)}`);
    }
  },
  () => running.close(),
);
