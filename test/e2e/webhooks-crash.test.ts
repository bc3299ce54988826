/**
 * Webhook deliveries survive kill -9 of the service (a child process on a real SQLite file): killed
 * while an attempt is in flight, the restarted service repeats that one delivery, with the same
 * delivery id, and then the rest in seq order; killed with a backlog of committed but undelivered
 * deliveries over several deployments, nothing is lost and only attempts that were in flight are
 * repeated (at most one per deployment).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveriesResult, SyncView, WebhookCreateResult } from "../../src/core/index.js";
import { allEvents, connectWamp, freshSalt, makeE2eDir, serviceArgs, sleep, spawnService, until, type ChildService, type E2eDir, type Wamp } from "../helpers/e2e-service.js";
import { killProcessesMarked } from "../helpers/processes.js";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver.js";

// Our children carry this variable, so the Nix builds a killed service leaves behind can be found.
const markerValue = freshSalt();
const marker = `FD_WEBHOOK_CRASH_TEST=${markerValue}`;
const env = {
  ...process.env,
  FD_WEBHOOK_CRASH_TEST: markerValue,
  FEDIVERSITY_WEBHOOK_TIMEOUT_MS: "2000",
  FEDIVERSITY_WEBHOOK_RETRY_FIRST_MS: "200",
  FEDIVERSITY_WEBHOOK_RETRY_MAX_MS: "1000",
  FEDIVERSITY_WEBHOOK_RETRY_FOR_MS: "120000",
};

let dir: E2eDir;
let receiver: Receiver;
let service: ChildService | null = null;
let panel: Wamp | null = null;

async function start(): Promise<Wamp> {
  service = await spawnService(serviceArgs(dir, ["--webhook-allow-private"]), env);
  panel = await connectWamp(service.url, dir.principals.panel);
  return panel;
}

async function kill9(): Promise<void> {
  await panel?.close();
  panel = null;
  await service?.kill9();
  service = null;
  await killProcessesMarked(marker);
}

beforeAll(async () => {
  dir = await makeE2eDir();
  receiver = await startReceiver();
});

afterAll(async () => {
  await panel?.close();
  await service?.stop();
  await killProcessesMarked(marker);
  await receiver?.close();
  await dir?.remove();
});

const bodyOf = (r: { body: string }) => JSON.parse(r.body) as { seq: number; deployment: string; type: string };
const deliveryId = (r: { headers: Record<string, unknown> }) => String(r.headers["x-fediversity-delivery"]);

describe("webhook deliveries across kill -9", () => {
  it("repeats only the attempt that was in flight, with the same delivery id, then the rest in seq order", { timeout: 180_000 }, async () => {
    let w = await start();
    const hook = await w.call<WebhookCreateResult>("fediversity.webhook.create", { tenant: "acme", url: `${receiver.url}/one`, events: ["sync.queued"], deployment: "crash_one" });
    let hold = true;
    receiver.answer = () => (hold ? { kind: "hang" } : { kind: "status", status: 200 });
    for (let i = 0; i < 3; i++) {
      await w.call<{ sync: SyncView }>("fediversity.deployment.submit", { tenant: "acme", deployment: "crash_one", deployment_type: "e2e", mode: "enqueue", configuration: { salt: freshSalt(), build_sleep_secs: 60 } });
    }
    await receiver.waitFor(1, 30_000);
    const inFlight = deliveryId(receiver.requests[0]!);
    await kill9();
    hold = false;
    w = await start();
    const t0 = performance.now();
    await receiver.waitFor(4, 60_000);
    const got = receiver.requests.filter((r) => r.path === "/hook/one");
    const queued = (await allEvents(w, "crash_one", "acme")).filter((e) => e.type === "sync.queued").map((e) => e.seq);
    expect(queued).toHaveLength(3);
    expect(got.map((r) => bodyOf(r).seq)).toEqual([queued[0], ...queued]);
    expect(deliveryId(got[0]!)).toBe(inFlight);
    expect(deliveryId(got[1]!)).toBe(inFlight);
    expect(new Set(got.map(deliveryId)).size).toBe(3);
    // The repeat waited for the dead attempt's lease (2 s deadline + 5 s), not longer than needed.
    expect(performance.now() - t0).toBeLessThan(30_000);
    await until(async () => (await w.call<DeliveriesResult>("fediversity.webhook.deliveries", { tenant: "acme", webhook: hook.webhook.webhook })).deliveries.every((d) => d.state === "delivered"), "recorded");
    const recorded = (await w.call<DeliveriesResult>("fediversity.webhook.deliveries", { tenant: "acme", webhook: hook.webhook.webhook })).deliveries;
    expect(recorded.map((d) => [d.event_seq, d.attempts])).toEqual([[queued[2], 1], [queued[1], 1], [queued[0], 2]]);
    await w.call("fediversity.deployment.cancel", { tenant: "acme", deployment: "crash_one" });
  });

  it("loses nothing committed before the kill, across several deployments, and repeats at most the in-flight one per deployment", { timeout: 300_000 }, async () => {
    let w = panel ?? (await start());
    const types = ["sync.queued", "sync.superseded", "sync.state", "sync.finished", "deployment.state"];
    const hook = await w.call<WebhookCreateResult>("fediversity.webhook.create", { tenant: "beta", url: `${receiver.url}/many`, events: types });
    // A slow receiver keeps a backlog of committed deliveries waiting.
    receiver.answer = () => ({ kind: "slow", ms: 150, status: 200 });
    const deployments = ["c0", "c1", "c2", "c3", "c4"];
    for (let round = 0; round < 6; round++) {
      for (const d of deployments) {
        await w.call("fediversity.deployment.submit", { tenant: "beta", deployment: d, deployment_type: "e2e", configuration: { salt: freshSalt(), build_sleep_secs: 40 } });
      }
    }
    const before = receiver.requests.filter((r) => r.path === "/hook/many").length;
    await kill9();
    const atKill = receiver.requests.filter((r) => r.path === "/hook/many").length;
    w = await start();
    for (const d of deployments) await w.call("fediversity.deployment.cancel", { tenant: "beta", deployment: d });
    // Quiet: every sync terminal, every delivery settled.
    await until(async () => {
      const page = await w.call<DeliveriesResult>("fediversity.webhook.deliveries", { tenant: "beta", webhook: hook.webhook.webhook, limit: 500 });
      return page.deliveries.length > 0 && page.deliveries.every((d) => d.state === "delivered");
    }, "every delivery delivered", 120_000);
    await sleep(300);
    const got = receiver.requests.filter((r) => r.path === "/hook/many");
    let repeats = 0;
    for (const d of deployments) {
      const stored = (await allEvents(w, d, "beta")).filter((e) => types.includes(e.type)).map((e) => e.seq);
      const mine = got.filter((r) => bodyOf(r).deployment === d);
      // In order, each stored event at least once; a repeat comes right after itself, with the same id.
      const collapsed = mine.filter((r, i) => {
        const prev = mine[i - 1];
        if (prev && bodyOf(prev).seq === bodyOf(r).seq) {
          expect(deliveryId(r)).toBe(deliveryId(prev));
          repeats += 1;
          return false;
        }
        return true;
      });
      expect(collapsed.map((r) => bodyOf(r).seq), d).toEqual(stored);
    }
    // Only attempts in flight at the kill can repeat: one lane each at most.
    expect(repeats).toBeLessThanOrEqual(deployments.length);
    // The kill really left a backlog behind (otherwise this test proves nothing).
    const total = got.length - repeats;
    expect(atKill).toBeLessThan(total);
    expect(before).toBeLessThanOrEqual(atKill);
  });
});
