import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import { serializerForProtocol, type Serializer } from "./serializers/index.js";
import { WampSession, type SessionHost } from "./session.js";

export interface TransportOptions {
  /** Largest accepted incoming message; bigger ones close the connection with 1009. */
  readonly maxMessageBytes: number;
  /** A peer whose unsent data exceeds this is disconnected as a slow consumer (1008). */
  readonly maxBufferedBytes: number;
  /** WebSocket ping interval; a peer that missed the previous pong is dropped. 0 = off. */
  readonly pingIntervalMs: number;
  readonly serializers: readonly Serializer[];
}

export interface WebSocketEndpoint {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly sessions: ReadonlySet<WampSession>;
  close(): Promise<void>;
}

/** The WebSocket side of the router: subprotocol negotiation, limits, keepalive, backpressure. */
export function createWebSocketEndpoint(host: SessionHost, options: TransportOptions, logger: Logger): WebSocketEndpoint {
  const sessions = new Set<WampSession>();
  const alive = new WeakSet<WebSocket>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    // The client's preference order wins: the first offered subprotocol we speak.
    handleProtocols: (protocols) => {
      for (const p of protocols) if (options.serializers.some((s) => s.protocol === p)) return p;
      return false;
    },
  });

  wss.on("connection", (ws: WebSocket, request: IncomingMessage) => {
    const serializer = serializerForProtocol(ws.protocol);
    if (serializer === undefined || !options.serializers.includes(serializer)) {
      ws.close(1002, "no supported WAMP subprotocol offered");
      return;
    }
    alive.add(ws);
    ws.on("pong", () => alive.add(ws));
    const remote = request.socket;
    const family = remote.remoteFamily === "IPv6" ? "tcp6" : "tcp4";
    let killTimer: NodeJS.Timeout | undefined;
    // Frames sent during one tick leave in one write: cork on the first, uncork on the next tick.
    let corked = false;
    const uncork = (): void => {
      corked = false;
      remote.uncork();
    };
    const session: WampSession = new WampSession(
      {
        serializer,
        info: { type: "websocket", protocol: ws.protocol, peer: `${family}:${remote.remoteAddress ?? "?"}:${remote.remotePort ?? 0}` },
        send: (frame) => {
          if (ws.readyState !== WebSocket.OPEN) return;
          if (ws.bufferedAmount > options.maxBufferedBytes) {
            logger.warn({ session: session.session, buffered: ws.bufferedAmount }, "slow consumer disconnected");
            session.onClose();
            closeWs(1008, "slow consumer: send buffer limit exceeded");
            return;
          }
          if (!corked) {
            corked = true;
            remote.cork();
            process.nextTick(uncork);
          }
          ws.send(frame);
        },
        close: (code, reason) => closeWs(code, reason),
      },
      host,
    );
    function closeWs(code: number, reason: string): void {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      killTimer ??= setTimeout(() => ws.terminate(), 3000);
      killTimer.unref();
    }
    sessions.add(session);
    ws.on("message", (data: Buffer, isBinary: boolean) => session.onFrame(data, isBinary));
    ws.on("error", (err) => logger.debug({ err, session: session.session }, "websocket error"));
    ws.on("close", () => {
      if (killTimer !== undefined) clearTimeout(killTimer);
      sessions.delete(session);
      session.onClose();
    });
  });

  const pinger =
    options.pingIntervalMs > 0
      ? setInterval(() => {
          for (const ws of wss.clients) {
            if (!alive.has(ws)) {
              ws.terminate();
              continue;
            }
            alive.delete(ws);
            ws.ping();
          }
        }, options.pingIntervalMs)
      : undefined;
  pinger?.unref();

  return {
    sessions,
    handleUpgrade(request, socket, head) {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
    },
    async close() {
      if (pinger !== undefined) clearInterval(pinger);
      for (const session of sessions) session.shutdown();
      const deadline = Date.now() + 1500;
      while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
