/**
 * examples/webhook_receiver.py (standard library only) fed by the service's own sender: a signed
 * delivery is handled once; a retry with the same delivery id is answered 200 and not handled
 * again, also after the receiver restarts on the same database; a wrong secret, a tampered body, a
 * missing signature and a body that is not an event are refused; the secret is never printed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAddressPolicy, createHttpSender, deliveryHeaders, newWebhookSecret, type HttpSender } from "../../src/webhooks/index.js";
import { repoRoot } from "../helpers/e2e-service.js";

const python = "/usr/bin/python3";
const script = join(repoRoot, "examples/webhook_receiver.py");
const secret = newWebhookSecret();

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly handled: { delivery: string; event: Record<string, unknown> }[];
  stderr: string;
  stdout: string;
  stop(): Promise<void>;
}

async function startPythonReceiver(db: string): Promise<Running> {
  const child = spawn(python, [script, "--listen", "127.0.0.1:0", "--db", db], { env: { ...process.env, WEBHOOK_SECRET: secret } });
  const lines = createInterface({ input: child.stdout });
  const running = { child, url: "", handled: [], stderr: "", stdout: "" } as unknown as Running & { url: string };
  child.stderr.on("data", (c: Buffer) => (running.stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start: ${running.stderr}`)), 15_000);
    lines.on("line", (line) => {
      running.stdout += `${line}\n`;
      const parsed = JSON.parse(line) as { listening?: string; delivery?: string; event?: Record<string, unknown> };
      if (parsed.listening) {
        clearTimeout(timer);
        resolve(parsed.listening);
      } else if (parsed.delivery && parsed.event) {
        running.handled.push({ delivery: parsed.delivery, event: parsed.event });
      }
    });
  });
  running.url = url;
  running.stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return running;
}

function event(seq: number, type = "sync.finished"): string {
  return JSON.stringify({ seq, tenant: "acme", deployment: "mastodon", sync: "01JSYNC", type, at: "2026-01-01T00:00:00.000Z", data: { state: "succeeded", error: null } });
}

let dir: string;
let sender: HttpSender;
let receiver: Running | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "webhook-py-"));
  sender = createHttpSender({ policy: createAddressPolicy({ allowPrivate: true }) });
});
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});
afterAll(async () => {
  sender.close();
  await rm(dir, { recursive: true, force: true });
});

async function waitHandled(r: Running, n: number): Promise<void> {
  const t0 = Date.now();
  while (r.handled.length < n) {
    if (Date.now() - t0 > 10_000) throw new Error(`handled ${r.handled.length} of ${n}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe("examples/webhook_receiver.py", () => {
  it("handles a signed delivery once, and answers a retry of the same delivery without handling it again, across a restart", async () => {
    const db = join(dir, "dedupe.sqlite");
    receiver = await startPythonReceiver(db);
    const body = event(1);
    const headers = deliveryHeaders({ eventType: "sync.finished", deliveryId: "01JD0001", secret, body });
    expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: true, status: 200 });
    expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: true, status: 200 });
    await waitHandled(receiver, 1);
    expect(receiver.handled).toEqual([{ delivery: "01JD0001", event: JSON.parse(body) }]);

    await receiver.stop();
    receiver = await startPythonReceiver(db);
    expect(await sender.send({ url: receiver.url, body, headers })).toEqual({ ok: true, status: 200 });
    const next = event(2);
    expect(await sender.send({ url: receiver.url, body: next, headers: deliveryHeaders({ eventType: "sync.finished", deliveryId: "01JD0002", secret, body: next }) })).toEqual({ ok: true, status: 200 });
    await waitHandled(receiver, 1);
    expect(receiver.handled.map((h) => h.delivery)).toEqual(["01JD0002"]);
  });

  it("refuses a wrong secret, a tampered body, a missing signature and a body that is not an event", async () => {
    receiver = await startPythonReceiver(":memory:");
    const body = event(3);
    const good = deliveryHeaders({ eventType: "sync.finished", deliveryId: "01JD0003", secret, body });
    const wrongSecret = deliveryHeaders({ eventType: "sync.finished", deliveryId: "01JD0003", secret: newWebhookSecret(), body });
    expect(await sender.send({ url: receiver.url, body, headers: wrongSecret })).toEqual({ ok: false, status: 401, error: "HTTP 401" });
    expect(await sender.send({ url: receiver.url, body: body.replace("succeeded", "failed"), headers: good })).toEqual({ ok: false, status: 401, error: "HTTP 401" });
    const { "x-fediversity-signature": _dropped, ...unsigned } = good;
    expect(await sender.send({ url: receiver.url, body, headers: unsigned })).toEqual({ ok: false, status: 401, error: "HTTP 401" });
    const notEvent = "[1,2,3]";
    expect(await sender.send({ url: receiver.url, body: notEvent, headers: deliveryHeaders({ eventType: "x", deliveryId: "01JD0004", secret, body: notEvent }) })).toEqual({ ok: false, status: 400, error: "HTTP 400" });
    expect(await sender.send({ url: receiver.url.replace(/\/hooks\/fediversity$/, "/other"), body, headers: good })).toEqual({ ok: false, status: 404, error: "HTTP 404" });
    // Nothing was handled; the good delivery still goes through afterwards.
    expect(await sender.send({ url: receiver.url, body, headers: good })).toEqual({ ok: true, status: 200 });
    await waitHandled(receiver, 1);
    expect(receiver.handled.map((h) => h.delivery)).toEqual(["01JD0003"]);
    await receiver.stop();
    expect(receiver.stdout + receiver.stderr).not.toContain(secret);
    expect(receiver.stdout + receiver.stderr).not.toContain(good["x-fediversity-signature"]);
  });

  it("refuses to start without a secret", async () => {
    const child = spawn(python, [script, "--listen", "127.0.0.1:0"], { env: { PATH: process.env.PATH ?? "" } });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain("WEBHOOK_SECRET");
  });
});
