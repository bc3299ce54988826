/**
 * A minimal WebSocket client over a plain TCP socket, for load generation only: text frames,
 * no extensions, no fragmentation. It hands each received payload up as a byte range of the
 * socket's chunk, so a client that only counts messages never builds a string or an object per
 * message; that keeps the client side cheap next to the router it drives.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

export interface RawWebSocket {
  /** The subprotocol the server chose. */
  readonly protocol: string;
  /** Queues one text frame; frames sent in the same tick go out in one write. */
  send(text: string): void;
  /** Closes the TCP connection; resolves once it is closed. */
  close(): Promise<void>;
}

export interface RawWebSocketOptions {
  readonly url: string;
  readonly protocol: string;
  /** Called with the payload bytes `chunk[start, end)`; valid only during the call. */
  readonly onMessage: (chunk: Buffer, start: number, end: number) => void;
  /** Called once the TCP connection is closed, with the error that closed it, if any. */
  readonly onClose?: (error?: Error) => void;
}

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

export function openRawWebSocket(options: RawWebSocketOptions): Promise<RawWebSocket> {
  const url = new URL(options.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    socket.once("error", reject);
    socket.on("connect", () => {
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Protocol: ${options.protocol}\r\n\r\n`,
      );
    });
    let head: Buffer | undefined = Buffer.alloc(0);
    let rest: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const text = head.subarray(0, end).toString("latin1");
        const after = head.subarray(end + 4);
        head = undefined;
        if (!text.startsWith("HTTP/1.1 101")) {
          socket.destroy();
          reject(new Error(`WebSocket upgrade refused: ${text.split("\r\n")[0] ?? ""}`));
          return;
        }
        const protocol = /^sec-websocket-protocol:\s*(.+)$/im.exec(text)?.[1]?.trim() ?? "";
        socket.off("error", reject);
        resolve(createHandle(socket, protocol));
        if (after.length > 0) onFrames(after);
        return;
      }
      onFrames(chunk);
    };
    // Frames may straddle chunks: keep the unparsed tail and prepend it to the next chunk.
    const onFrames = (chunk: Buffer): void => {
      const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
      rest = undefined;
      let at = 0;
      while (buf.length - at >= 2) {
        const b0 = buf[at]!;
        const b1 = buf[at + 1]!;
        let len = b1 & 0x7f;
        let start = at + 2;
        if (len === 126) {
          if (buf.length - at < 4) break;
          len = buf.readUInt16BE(at + 2);
          start = at + 4;
        } else if (len === 127) {
          if (buf.length - at < 10) break;
          len = Number(buf.readBigUInt64BE(at + 2));
          start = at + 10;
        }
        if (buf.length < start + len) break;
        const opcode = b0 & 0x0f;
        if ((b0 & 0x80) === 0 || (b1 & 0x80) !== 0) {
          socket.destroy(new Error("fragmented or masked frame from the server: not supported by this client"));
          return;
        }
        if (opcode === OP_TEXT || opcode === 0x2) options.onMessage(buf, start, start + len);
        else if (opcode === OP_PING) socket.write(frame(0xa, buf.subarray(start, start + len)));
        else if (opcode === OP_CLOSE) socket.end();
        at = start + len;
      }
      if (at < buf.length) {
        // Copy the tail so that the (possibly large) chunk it came from can be freed.
        rest = Buffer.from(buf.subarray(at));
      }
    };
    let failure: Error | undefined;
    socket.on("error", (err) => (failure = err));
    socket.on("data", onData);
    socket.on("close", () => options.onClose?.(failure));
  });
}

function createHandle(socket: Socket, protocol: string): RawWebSocket {
  let queued: Buffer[] = [];
  const flush = (): void => {
    const frames = queued;
    queued = [];
    socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  };
  return {
    protocol,
    send(text) {
      if (queued.length === 0) process.nextTick(flush);
      queued.push(frame(OP_TEXT, Buffer.from(text)));
    },
    close() {
      if (socket.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        socket.once("close", () => resolve());
        socket.end();
        // A server that does not close its side within a second gets a reset.
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    },
  };
}

/**
 * A client frame. The mask key is all zeros: clients must mask (RFC 6455 §5.3), but the key's
 * unpredictability only protects proxies from browser scripts, and a zero key leaves the payload
 * as it is, which saves a pass over every byte.
 */
function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headLen + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  out.writeUInt32BE(0, headLen);
  payload.copy(out, headLen + 4);
  return out;
}
