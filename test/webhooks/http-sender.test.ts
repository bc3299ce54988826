/**
 * The webhook HTTP sender against real HTTP(S) servers on loopback: what counts as delivered, the
 * deadline, closed sockets, redirects (never followed), bounded reads of answers, connection reuse,
 * and the address policy applied when connecting (including a name whose DNS answer changed).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAddressPolicy, createHttpSender, deliveryHeaders, verifySignature, type HttpSender, type ResolvedAddress } from "../../src/webhooks/index.js";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver.js";

const run = promisify(execFile);
const body = JSON.stringify({ seq: 7, tenant: "acme", deployment: "mastodon", sync: "01J", type: "sync.finished", at: "2026-01-01T00:00:00.000Z", data: { state: "succeeded", error: null } });
const headers = deliveryHeaders({ eventType: "sync.finished", deliveryId: "01JDELIVERY", secret: "whsec_test", body });

let receiver: Receiver;
let sender: HttpSender;
const loopbackAllowed = createAddressPolicy({ allowPrivate: true });

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});
afterEach(() => {
  sender?.close();
  receiver.answer = () => ({ kind: "status", status: 200 });
});

describe("delivering", () => {
  it("POSTs the body with the contract's headers; the signature verifies on the receiving side", async () => {
    sender = createHttpSender({ policy: loopbackAllowed });
    const before = receiver.requests.length;
    const outcome = await sender.send({ url: receiver.url, body, headers });
    expect(outcome).toEqual({ ok: true, status: 200 });
    const got = receiver.requests[before];
    expect(got?.method).toBe("POST");
    expect(got?.path).toBe("/hook");
    expect(got?.body).toBe(body);
    expect(got?.headers["content-type"]).toBe("application/json");
    expect(got?.headers["x-fediversity-event"]).toBe("sync.finished");
    expect(got?.headers["x-fediversity-delivery"]).toBe("01JDELIVERY");
    expect(verifySignature("whsec_test", got?.body ?? "", got?.headers["x-fediversity-signature"] as string)).toBe(true);
    expect(verifySignature("whsec_other", got?.body ?? "", got?.headers["x-fediversity-signature"] as string)).toBe(false);
  });

  it("counts any 2xx as delivered and reports other statuses", async () => {
    sender = createHttpSender({ policy: loopbackAllowed });
    for (const status of [200, 201, 202, 204, 299]) {
      receiver.answer = () => ({ kind: "status", status });
      expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: true, status });
    }
    for (const status of [400, 404, 410, 500, 503]) {
      receiver.answer = () => ({ kind: "status", status, body: "nope" });
      expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: false, status, error: `HTTP ${status}` });
    }
  });

  it("never follows a redirect", async () => {
    sender = createHttpSender({ policy: loopbackAllowed });
    const target = await startReceiver();
    try {
      for (const status of [301, 302, 307, 308]) {
        receiver.answer = () => ({ kind: "redirect", status, location: target.url });
        expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: false, status, error: `redirect (HTTP ${status}) not followed` });
      }
      expect(target.requests).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it("gives up on a receiver that does not answer within the deadline", async () => {
    sender = createHttpSender({ policy: loopbackAllowed, timeoutMs: 400 });
    receiver.answer = () => ({ kind: "hang" });
    const t0 = performance.now();
    const outcome = await sender.send({ url: receiver.url, body, headers });
    const took = performance.now() - t0;
    expect(outcome).toEqual({ ok: false, status: null, error: "no answer within 400 ms" });
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(3000);
  });

  it("reports a receiver that closes the connection without answering", async () => {
    sender = createHttpSender({ policy: loopbackAllowed });
    receiver.answer = () => ({ kind: "close" });
    expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: false, status: null, error: "connection closed before an answer" });
  });

  it("reports a refused connection", async () => {
    sender = createHttpSender({ policy: loopbackAllowed });
    const gone = await startReceiver();
    const url = gone.url;
    await gone.close();
    expect(await sender.send({ url, body, headers })).toEqual({ ok: false, status: null, error: "connection refused" });
  });

  it("reads a bounded part of an endless answer and drops the connection", async () => {
    sender = createHttpSender({ policy: loopbackAllowed, maxResponseBytes: 256 * 1024, timeoutMs: 20_000 });
    receiver.answer = () => ({ kind: "endless" });
    const before = receiver.connections();
    const t0 = performance.now();
    expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: true, status: 200 });
    // The connection is gone well before the deadline: the next delivery needs a new one.
    await new Promise((r) => setTimeout(r, 300));
    receiver.answer = () => ({ kind: "status", status: 200 });
    expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: true, status: 200 });
    expect(receiver.connections()).toBe(before + 2);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("reuses a connection, and a reused connection dropped by the receiver gets one more try on a new one", async () => {
    sender = createHttpSender({ policy: loopbackAllowed });
    const r = await startReceiver();
    try {
      for (let i = 0; i < 5; i++) expect((await sender.send({ url: r.url, body, headers })).ok).toBe(true);
      expect(r.connections()).toBe(1);
      let dropped = false;
      r.answer = (req) => {
        if (!dropped && req.connection === 1) {
          dropped = true;
          return { kind: "close" };
        }
        return { kind: "status", status: 200 };
      };
      expect(await sender.send({ url: r.url, body, headers })).toEqual({ ok: true, status: 200 });
      expect(r.connections()).toBe(2);
      expect(r.requests.at(-1)?.headers["x-fediversity-delivery"]).toBe("01JDELIVERY");
    } finally {
      await r.close();
    }
  });
});

describe("address policy when connecting", () => {
  it("refuses loopback literals and names resolving to loopback without the operator's flag, sending nothing", async () => {
    sender = createHttpSender({ policy: createAddressPolicy({ allowPrivate: false }) });
    const before = receiver.requests.length;
    expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: false, status: null, error: "refused: 127.0.0.1 is a loopback address" });
    expect(await sender.send({ url: `http://[::ffff:127.0.0.1]:${receiver.port}/hook`, body, headers })).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: .* loopback address$/) });
    const byName = await sender.send({ url: `http://localhost:${receiver.port}/hook`, body, headers });
    expect(byName).toMatchObject({ ok: false, status: null });
    expect(byName.ok ? "" : byName.error).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
    expect(receiver.requests.length).toBe(before);
  });

  it("checks the name again at delivery time: DNS that changed to a private address is refused", async () => {
    let answer: ResolvedAddress[] = [{ address: "93.184.216.34", family: 4 }];
    const policy = createAddressPolicy({ allowPrivate: false, resolve: async () => answer });
    const url = `http://hooks.panel.example:${receiver.port}/hook`;
    await expect(policy.checkUrl(url)).resolves.toBeInstanceOf(URL);
    answer = [{ address: "127.0.0.1", family: 4 }];
    sender = createHttpSender({ policy });
    const before = receiver.requests.length;
    expect(await sender.send({ url, body, headers })).toEqual({ ok: false, status: null, error: "refused: hooks.panel.example resolves to 127.0.0.1, a loopback address" });
    // One refused address among several refuses the name: the connection could land on it.
    answer = [{ address: "93.184.216.34", family: 4 }, { address: "10.0.0.8", family: 4 }];
    expect(await sender.send({ url, body, headers })).toEqual({ ok: false, status: null, error: "refused: hooks.panel.example resolves to 10.0.0.8, a private address" });
    expect(receiver.requests.length).toBe(before);
  });

  it("dials the address the policy checked (a name resolved by our resolver reaches the receiver when allowed)", async () => {
    const policy = createAddressPolicy({ allowPrivate: true, resolve: async () => [{ address: "127.0.0.1", family: 4 }] });
    sender = createHttpSender({ policy });
    const before = receiver.requests.length;
    expect(await sender.send({ url: `http://hooks.panel.example:${receiver.port}/hook`, body, headers })).toEqual({ ok: true, status: 200 });
    expect(receiver.requests[before]?.headers.host).toBe(`hooks.panel.example:${receiver.port}`);
  });
});

describe("https", () => {
  let dir: string;
  let cert: string;
  let key: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "webhook-tls-"));
    await run("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ]);
    cert = await readFile(join(dir, "cert.pem"), "utf8");
    key = await readFile(join(dir, "key.pem"), "utf8");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("delivers over TLS to a trusted certificate and refuses an untrusted one", async () => {
    const seen: string[] = [];
    const server = createHttpsServer({ cert, key }, (req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        seen.push(text);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const addr = server.address();
    const url = `https://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/hook`;
    try {
      sender = createHttpSender({ policy: loopbackAllowed, ca: cert });
      expect(await sender.send({ url, body, headers })).toEqual({ ok: true, status: 204 });
      expect(seen).toEqual([body]);
      sender.close();
      sender = createHttpSender({ policy: loopbackAllowed });
      const untrusted = await sender.send({ url, body, headers });
      expect(untrusted.ok).toBe(false);
      expect(untrusted.ok ? "" : untrusted.error).toMatch(/self.signed/i);
      expect(seen).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
