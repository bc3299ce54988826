/**
 * Plain h2c gRPC on node:http2 (rio serves no TLS), with session tracking so a close really ends
 * every connection: that is what lets a failover reopen the same port at once.
 */
import http2 from "node:http2";
import type { Socket } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

export interface GrpcServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startGrpcServer(
  host: string,
  port: number,
  routes: (router: ConnectRouter) => void,
  interceptors: Interceptor[],
): Promise<GrpcServer> {
  const handler = connectNodeAdapter({
    routes,
    interceptors,
    grpc: true,
    grpcWeb: false,
    connect: false,
    // rio's tonic servers compress nothing unless configured to; neither do we (on loopback,
    // gzip of every log batch cost both sides more than the bytes it saved).
    acceptCompression: [],
    readMaxBytes: 256 * 1024 * 1024,
    writeMaxBytes: 256 * 1024 * 1024,
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  // A session whose peer stopped reading can outlive its own destroy(); the socket cannot.
  const sockets = new Set<Socket>();
  server.on("connection", (sock: Socket) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  return {
    port: actualPort,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY first so finished streams flush their trailers, then force what lingers.
      for (const s of sessions) s.close();
      const force = setTimeout(() => {
        for (const s of sessions) s.destroy();
        for (const sock of sockets) sock.destroy();
      }, 500);
      await closed;
      clearTimeout(force);
    },
  };
}
