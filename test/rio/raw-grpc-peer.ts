/**
 * A gRPC peer written at the HTTP/2 frame level (node:http2 on loopback), for what the local
 * scheduler never does: cutting a stream in the middle of a message, never answering with
 * headers, refusing Trailers-Only as tonic does, or sending messages over 4 MiB. Each test
 * scripts the answer per call; the peer records every call it got.
 */
import { once } from "node:events";
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";

export interface RawCall {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The request message (without its 5-byte prefix). */
  readonly request: Buffer;
  readonly stream: ServerHttp2Stream;
  /** Resolves when the client closed or reset the stream, with the RST code (0 for a clean close). */
  readonly closed: Promise<number>;
}

export interface RawPeer {
  readonly url: string;
  readonly calls: RawCall[];
  close(): Promise<void>;
}

/** One length-prefixed gRPC message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** 200 with the gRPC content type and `extra` headers; trailers carry the status later. */
export function respond(stream: ServerHttp2Stream, extra: Record<string, string> = {}): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc", ...extra }, { waitForTrailers: true });
}

/** Ends a responded stream with grpc-status (0 = OK). */
export function finish(stream: ServerHttp2Stream, code = 0, message = ""): void {
  stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(code), ...(message ? { "grpc-message": message } : {}) }));
  stream.end();
}

/** A Trailers-Only answer (headers with END_STREAM), as tonic sends for an early refusal. */
export function trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": message }, { endStream: true });
}

export async function startRawPeer(handle: (call: RawCall) => void): Promise<RawPeer> {
  const calls: RawCall[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    const closed = new Promise<number>((resolve) => stream.once("close", () => resolve(stream.rstCode ?? 0)));
    stream.on("error", () => {}); // a reset stream errors on the server side too; the test looks at `closed`
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("end", () => {
      const body = Buffer.concat(chunks);
      const call = { path: String(headers[":path"]), headers, request: body.subarray(5), stream, closed };
      calls.push(call);
      handle(call);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: async () => {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closing;
    },
  };
}
