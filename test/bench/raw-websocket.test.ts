/**
 * The raw WebSocket client that bench/peers.ts drives routers with, against a real `ws` server:
 * payloads of every length class survive in both directions (frames that straddle TCP chunks,
 * 16- and 64-bit lengths, the zero mask key), and a refused upgrade is an error.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { openRawWebSocket } from "../../bench/peers/raw-websocket.js";

const sizes = [0, 1, 125, 126, 127, 1000, 65535, 65536, 200_000];
const text = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i + seed) % 26))).join("");

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
}

describe("openRawWebSocket", () => {
  it("receives and sends text frames of every length class, back to back", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, handleProtocols: (p) => (p.has("wamp.2.json") ? "wamp.2.json" : false) });
    const fromClient: string[] = [];
    let allIn!: () => void;
    const clientDone = new Promise<void>((r) => (allIn = r));
    wss.on("connection", (ws) => {
      // All in one tick, so several frames share (and straddle) TCP chunks.
      for (const [i, n] of sizes.entries()) ws.send(text(n, i));
      ws.on("message", (data: Buffer) => {
        fromClient.push(data.toString());
        if (fromClient.length === sizes.length) allIn();
      });
    });
    close = async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    };
    const url = await listen(http);

    const received: string[] = [];
    let allOut!: () => void;
    const serverDone = new Promise<void>((r) => (allOut = r));
    const ws = await openRawWebSocket({
      url,
      protocol: "wamp.2.json",
      onMessage(chunk, start, end) {
        received.push(chunk.toString("utf8", start, end));
        if (received.length === sizes.length) allOut();
      },
    });
    expect(ws.protocol).toBe("wamp.2.json");
    for (const [i, n] of sizes.entries()) ws.send(text(n, i + 7));
    await Promise.all([serverDone, clientDone]);
    expect(received).toEqual(sizes.map((n, i) => text(n, i)));
    expect(fromClient).toEqual(sizes.map((n, i) => text(n, i + 7)));
    await ws.close();
  });

  it("rejects when the server does not switch protocols", async () => {
    const http = createServer((_req, res) => res.writeHead(426).end());
    http.on("upgrade", (_req, socket) => socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
    close = () => new Promise<void>((r) => http.close(() => r()));
    const url = await listen(http);
    await expect(openRawWebSocket({ url, protocol: "wamp.2.json", onMessage: () => undefined })).rejects.toThrow(
      /upgrade refused: HTTP\/1.1 404/,
    );
  });
});
