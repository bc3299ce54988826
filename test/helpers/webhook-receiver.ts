/**
 * A real HTTP receiver on loopback for webhook tests: records every request (headers, raw body,
 * connection, arrival time) and answers as the test says, per request: a status, a hang, a closed
 * socket, a redirect, an endless body, a late answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  /** 1-based number of the TCP connection it came on. */
  readonly connection: number;
  /** performance.now() at arrival of the whole body. */
  readonly at: number;
}

export type Answer =
  | { readonly kind: "status"; readonly status: number; readonly body?: string }
  | { readonly kind: "slow"; readonly ms: number; readonly status: number }
  | { readonly kind: "hang" }
  | { readonly kind: "close" }
  | { readonly kind: "redirect"; readonly status: number; readonly location: string }
  | { readonly kind: "endless" };

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Decides the answer to each request (default: 200). */
  answer: (req: ReceivedRequest, index: number) => Answer;
  /** Connections opened so far. */
  connections(): number;
  /** Resolves once `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(options: { keepAliveTimeoutMs?: number } = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Map<Socket, number>();
  const open = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  let waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        connection: sockets.get(req.socket) ?? 0,
        at: performance.now(),
      };
      const index = requests.length;
      requests.push(received);
      waiters = waiters.filter((w) => {
        if (requests.length >= w.n) w.resolve();
        return requests.length < w.n;
      });
      const a = receiver.answer(received, index);
      switch (a.kind) {
        case "status":
          res.writeHead(a.status, { "content-type": "text/plain" }).end(a.body ?? "");
          return;
        case "slow":
          hung.add(res);
          setTimeout(() => {
            hung.delete(res);
            if (!res.destroyed) res.writeHead(a.status).end();
          }, a.ms);
          return;
        case "hang":
          hung.add(res);
          return;
        case "close":
          req.socket.destroy();
          return;
        case "redirect":
          res.writeHead(a.status, { location: a.location }).end();
          return;
        case "endless": {
          res.writeHead(200, { "content-type": "application/octet-stream" });
          const chunk = Buffer.alloc(64 * 1024, 120);
          const pump = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once("drain", pump);
          };
          pump();
          return;
        }
      }
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.on("connection", (s: Socket) => {
    sockets.set(s, sockets.size + 1);
    open.add(s);
    s.on("close", () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    answer: () => ({ kind: "status", status: 200 }),
    connections: () => sockets.size,
    waitFor(n, timeoutMs = 30_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: ${requests.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      for (const res of hung) res.destroy();
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
