import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import { serializerForProtocol, type Serializer } from "./serializers/index.js";
import { connectionClosed, createSession, receiveFrame, shutdownSession, type Session, type SessionHost } from "./session/session.js";

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
  readonly sessions: ReadonlySet<Session>;
  close(): Promise<void>;
}

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

/** RFC 6455 §5.2 header of a final, unmasked (server-to-client) frame. */
export function frameHeader(length: number, opcode: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 0x10000) {
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = 0x80 | opcode;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** The WebSocket side of the router: subprotocol negotiation, limits, keepalive, backpressure. */
export function createWebSocketEndpoint(host: SessionHost, options: TransportOptions, logger: Logger): WebSocketEndpoint {
  const sessions = new Set<Session>();
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
    // Frames sent during one tick leave together as one buffer in one socket write: a burst of
    // events to many subscribers costs one syscall per subscriber, not one per event.
    const opcode = serializer.binary ? OPCODE_BINARY : OPCODE_TEXT;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = (): void => {
      if (pending.length === 0) return;
      const frames = pending;
      pending = [];
      pendingBytes = 0;
      if (ws.readyState !== WebSocket.OPEN) return;
      const parts: Buffer[] = [];
      for (const payload of frames) parts.push(frameHeader(payload.length, opcode), payload);
      // Safe beside ws's own writes (pings, close): permessage-deflate is off, so ws never queues.
      remote.write(Buffer.concat(parts));
    };
    const session: Session = createSession(
      {
        serializer,
        info: { type: "websocket", protocol: ws.protocol, peer: `${family}:${remote.remoteAddress ?? "?"}:${remote.remotePort ?? 0}` },
        send: (frame) => {
          if (ws.readyState !== WebSocket.OPEN) return;
          const payload = typeof frame === "string" ? Buffer.from(frame) : frame;
          if (ws.bufferedAmount + pendingBytes > options.maxBufferedBytes) {
            logger.warn({ session: session.id, buffered: ws.bufferedAmount + pendingBytes }, "slow consumer disconnected");
            pending = [];
            pendingBytes = 0;
            connectionClosed(session);
            closeWs(1008, "slow consumer: send buffer limit exceeded");
            return;
          }
          if (pending.length === 0) process.nextTick(flush);
          pending.push(payload);
          pendingBytes += payload.length;
        },
        close: (code, reason) => closeWs(code, reason),
      },
      host,
    );
    function closeWs(code: number, reason: string): void {
      flush(); // an ABORT or GOODBYE queued this tick goes out before the close frame
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      killTimer ??= setTimeout(() => ws.terminate(), 3000);
      killTimer.unref();
    }
    sessions.add(session);
    ws.on("message", (data: Buffer, isBinary: boolean) => receiveFrame(session, data, isBinary));
    ws.on("error", (err) => logger.debug({ err, session: session.id }, "websocket error"));
    ws.on("close", () => {
      if (killTimer !== undefined) clearTimeout(killTimer);
      sessions.delete(session);
      connectionClosed(session);
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
      for (const session of sessions) shutdownSession(session);
      const deadline = Date.now() + 1500;
      while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
