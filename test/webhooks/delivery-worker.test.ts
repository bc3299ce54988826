/**
 * The outbox and the delivery loop on a real SQLite store, real HTTP receivers on loopback and the
 * real sender: deliveries are stored with their events, sent signed and in seq order per lane,
 * retried with growing delays and finally failed for every kind of failing receiver, re-sent
 * with the same id when a worker died holding them, and never touched by a late outcome.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventType } from "../../src/core/index.js";
import type { Store } from "../../src/store/index.js";
import {
  createAddressPolicy,
  createDeliveryWorker,
  createHttpSender,
  createSecretBox,
  newWebhookSecret,
  verifySignature,
  type AttemptRecord,
  type DeliveryWorker,
  type HttpSender,
  type RetrySchedule,
} from "../../src/webhooks/index.js";
import { apply, freshStore, tempDir, testClock } from "../store/fixture.js";
import { startReceiver, type Answer, type Receiver } from "../helpers/webhook-receiver.js";

const dir = tempDir();
const box = createSecretBox(randomBytes(32));
const fast: RetrySchedule = { firstDelayMs: 100, maxDelayMs: 400, giveUpAfterMs: 1500, jitter: 0 };

let store: Store;
let receiver: Receiver;
let sender: HttpSender;
let worker: DeliveryWorker | undefined;
let recorded: AttemptRecord[];

beforeEach(async () => {
  store = freshStore(dir);
  receiver = await startReceiver();
  sender = createHttpSender({ policy: createAddressPolicy({ allowPrivate: true }), timeoutMs: 300 });
  recorded = [];
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  sender.close();
  await receiver.close();
});

function addWebhook(opts: { tenant?: string; events?: EventType[]; deployment?: string | null; url?: string } = {}) {
  const secret = newWebhookSecret();
  const view = store.createWebhook({
    tenant: opts.tenant ?? "acme",
    url: opts.url ?? receiver.url,
    events: opts.events ?? ["sync.queued"],
    deployment: opts.deployment ?? null,
    description: null,
    sealSecret: (id) => box.seal(id, secret),
  });
  return { view, secret };
}

function startWorker(schedule: RetrySchedule = fast, concurrency = 64, timeoutMs = 300): DeliveryWorker {
  if (timeoutMs !== 300) {
    sender.close();
    sender = createHttpSender({ policy: createAddressPolicy({ allowPrivate: true }), timeoutMs });
  }
  const w = createDeliveryWorker({
    queue: { claim: (i) => store.claimDeliveries(i), record: (r) => store.recordDeliveryOutcomes(r), nextDueAt: () => store.nextDeliveryDueAt() },
    sender,
    openSecret: (id, sealed) => box.open(id, sealed),
    schedule,
    timeoutMs,
    leaseMarginMs: 200,
    concurrency,
    onRecorded: (r) => recorded.push(...r),
  });
  store.onCommit((batch) => {
    if (batch.events.length > 0) w.notify();
  });
  w.start();
  worker = w;
  return w;
}

async function until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("outbox", () => {
  it("stores a delivery with each matching event in the same commit, and none for other tenants, deployments or types", () => {
    const all = addWebhook({ events: ["sync.queued", "sync.superseded"] });
    const onlyPix = addWebhook({ deployment: "pixelfed" });
    const beta = addWebhook({ tenant: "beta" });
    store.submitSync(apply("mastodon"));
    store.submitSync(apply("mastodon", { n: 2 })); // supersedes the first: sync.superseded too
    store.submitSync(apply("pixelfed"));
    // Right after the commits, before any worker ran.
    const types = (id: string) => store.listDeliveries("acme", id).deliveries.map((d) => `${d.deployment}:${d.event_seq}:${d.type}`).reverse();
    const events = store.eventsSince("acme", "mastodon", 0, 100).events.filter((e) => e.type === "sync.queued" || e.type === "sync.superseded");
    expect(types(all.view.webhook)).toEqual([...events.map((e) => `mastodon:${e.seq}:${e.type}`), "pixelfed:1:sync.queued"]);
    expect(types(onlyPix.view.webhook)).toEqual(["pixelfed:1:sync.queued"]);
    expect(store.listDeliveries("beta", beta.view.webhook).deliveries).toEqual([]);
    // Only a lane's head is due; the others wait.
    const lane = store.listDeliveries("acme", all.view.webhook).deliveries.filter((d) => d.deployment === "mastodon");
    expect(lane.filter((d) => d.next_attempt_at !== null)).toHaveLength(1);
    expect(lane.at(-1)?.next_attempt_at).not.toBeNull();
  });
});

describe("retention", () => {
  it("sweeps settled deliveries with old events, keeps pending ones, and fails a pending delivery whose event was swept", () => {
    const clock = testClock();
    store = freshStore(dir, { clock });
    const { view } = addWebhook();
    store.submitSync(apply("a", { n: 1 }));
    store.submitSync(apply("b", { n: 1 }, { mode: "enqueue" }));
    store.submitSync(apply("b", { n: 2 }, { mode: "enqueue" }));
    const lease = new Date(clock.now.getTime() + 60_000);
    const claimed = store.claimDeliveries({ now: clock.now, limit: 10, leaseUntil: lease });
    expect(claimed.map((c) => JSON.parse(c.body).deployment)).toEqual(["a", "b"]);
    const forA = claimed.find((c) => JSON.parse(c.body).deployment === "a");
    store.recordDeliveryOutcomes([{ outcome: "delivered", delivery: forA?.delivery ?? "", attempt: 1, status: 200, at: clock.now }]);
    clock.advance(7200);
    const swept = store.sweepRetention({ syncsSecs: null, eventsSecs: 3600, logsSecs: null });
    expect(swept.deliveries).toBe(1); // a's delivered one; b's two are pending
    const left = store.listDeliveries("acme", view.webhook).deliveries;
    expect(left.map((d) => [d.deployment, d.event_seq, d.state])).toEqual([["b", 2, "pending"], ["b", 1, "pending"]]);
    // b's head comes due again (its lease ran out); its event is gone: failed, and the next one is promoted.
    expect(store.claimDeliveries({ now: clock.now, limit: 10, leaseUntil: new Date(clock.now.getTime() + 1000) })).toEqual([]);
    const after = store.listDeliveries("acme", view.webhook).deliveries;
    expect(after.map((d) => [d.event_seq, d.state, d.last_error])).toEqual([[2, "pending", null], [1, "failed", "the event is no longer stored"]]);
    expect(after[0]?.next_attempt_at).toBe(clock.now.toISOString());
  });
});

describe("delivery loop", () => {
  it("sends signed events, exactly as stored, in seq order per deployment", async () => {
    const { view, secret } = addWebhook();
    startWorker();
    for (let i = 0; i < 20; i++) store.submitSync(apply(`app${i % 4}`, { n: i }, { mode: "enqueue" }));
    await receiver.waitFor(20);
    await until(() => store.listDeliveries("acme", view.webhook).deliveries.every((d) => d.state === "delivered"), "all delivered");
    const byDeployment = new Map<string, number[]>();
    for (const r of receiver.requests) {
      expect(verifySignature(secret, r.body, r.headers["x-fediversity-signature"] as string)).toBe(true);
      const event = JSON.parse(r.body) as { seq: number; deployment: string; type: string };
      expect(r.headers["x-fediversity-event"]).toBe(event.type);
      const stored = store.eventsSince("acme", event.deployment, event.seq - 1, 1).events[0];
      expect(r.body).toBe(JSON.stringify(stored));
      byDeployment.set(event.deployment, [...(byDeployment.get(event.deployment) ?? []), event.seq]);
    }
    for (const [dep, seqs] of byDeployment) expect(seqs, dep).toEqual([1, 2, 3, 4, 5]);
    const views = store.listWebhooks("acme");
    expect(views[0]?.last_delivery_at).not.toBeNull();
    expect(views[0]?.failing_since).toBeNull();
  });

  const failures: [string, Answer, RegExp][] = [
    ["answers 500", { kind: "status", status: 500 }, /^HTTP 500$/],
    ["hangs past the deadline", { kind: "hang" }, /^no answer within 300 ms$/],
    ["closes the socket", { kind: "close" }, /^connection closed before an answer$/],
    ["answers 302", { kind: "redirect", status: 302, location: "http://127.0.0.1:1/" }, /^redirect \(HTTP 302\) not followed$/],
  ];
  it.each(failures)("a receiver that %s gets retries with growing delays, then the delivery is failed and the next one goes", async (_name, answer, error) => {
    const { view } = addWebhook();
    store.submitSync(apply("mastodon", { n: 1 }, { mode: "enqueue" }));
    store.submitSync(apply("mastodon", { n: 2 }, { mode: "enqueue" }));
    receiver.answer = (req) => (JSON.parse(req.body) as { seq: number }).seq === 1 ? answer : { kind: "status", status: 200 };
    startWorker({ ...fast, giveUpAfterMs: 2500 });
    await until(() => recorded.length >= 2, "two failed attempts");
    // While it fails, the webhook says since when; the waiting delivery has no due time.
    expect(store.listWebhooks("acme")[0]?.failing_since).not.toBeNull();
    expect(store.listDeliveries("acme", view.webhook).deliveries[0]).toMatchObject({ event_seq: 2, state: "pending", next_attempt_at: null, attempts: 0 });
    await until(() => store.listDeliveries("acme", view.webhook).deliveries.every((d) => d.state !== "pending"), "both settled", 20_000);
    const [second, first] = store.listDeliveries("acme", view.webhook).deliveries;
    expect(first).toMatchObject({ event_seq: 1, state: "failed", next_attempt_at: null });
    expect(first?.last_error).toMatch(error);
    expect(first?.attempts).toBeGreaterThanOrEqual(4);
    expect(second).toMatchObject({ event_seq: 2, state: "delivered", attempts: 1, last_status: 200, last_error: null });
    // Every attempt of seq 1 carried the same delivery id; the gaps between them grew, then capped.
    const tries = receiver.requests.filter((r) => (JSON.parse(r.body) as { seq: number }).seq === 1);
    expect(new Set(tries.map((r) => r.headers["x-fediversity-delivery"]))).toEqual(new Set([first?.delivery]));
    expect(tries).toHaveLength(first?.attempts ?? 0);
    const attemptsOf1 = recorded.filter((r) => r.delivery === first?.delivery);
    const gaps = attemptsOf1.slice(1).map((r, i) => r.at.getTime() - (attemptsOf1[i]?.at.getTime() ?? 0));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeGreaterThan(gaps[0] ?? 0);
    expect(gaps[2]).toBeGreaterThan(gaps[1] ?? 0);
    // Capped at 400 ms: no gap beyond the cap plus the attempt itself.
    for (const g of gaps) expect(g).toBeLessThan(400 + 300 + 250);
    // seq 2 was sent only after seq 1 had failed for good.
    const secondAt = receiver.requests.find((r) => (JSON.parse(r.body) as { seq: number }).seq === 2)?.at ?? 0;
    expect(secondAt).toBeGreaterThan(tries.at(-1)?.at ?? Infinity);
    // The next delivery succeeded: the webhook is healthy again.
    expect(store.listWebhooks("acme")[0]).toMatchObject({ failing_since: null });
    expect(store.listWebhooks("acme")[0]?.last_delivery_at).not.toBeNull();
  });

  it("a delivery claimed by a worker that died is sent again with the same id when its lease ends; the dead worker's late outcome changes nothing", async () => {
    const { view } = addWebhook();
    store.submitSync(apply("mastodon"));
    // A worker claims it and dies before recording (what kill -9 leaves behind).
    const now = new Date();
    const t0 = performance.now();
    const [lost] = store.claimDeliveries({ now, limit: 10, leaseUntil: new Date(now.getTime() + 700) });
    expect(lost?.attempt).toBe(1);
    expect(store.claimDeliveries({ now: new Date(), limit: 10, leaseUntil: new Date() })).toEqual([]); // leased
    startWorker();
    await receiver.waitFor(1, 5000);
    expect(receiver.requests[0]?.headers["x-fediversity-delivery"]).toBe(lost?.delivery);
    expect((receiver.requests[0]?.at ?? 0) - t0).toBeGreaterThanOrEqual(650);
    await until(() => store.listDeliveries("acme", view.webhook).deliveries[0]?.state === "delivered", "delivered");
    // The dead worker's outcome arrives late: guarded by the attempt number, it is ignored.
    store.recordDeliveryOutcomes([{ outcome: "failed", delivery: lost?.delivery ?? "", attempt: 1, status: 500, error: "late", at: new Date() }]);
    expect(store.listDeliveries("acme", view.webhook).deliveries[0]).toMatchObject({ state: "delivered", attempts: 2, last_error: null });
  });

  it("keeps seq order per deployment for 20 deployments with bursts of syncs", async () => {
    const { view } = addWebhook({ events: ["sync.queued", "sync.superseded", "sync.state", "sync.finished", "deployment.state"] });
    startWorker(fast, 8, 5000);
    for (let burst = 0; burst < 5; burst++) {
      for (let d = 0; d < 20; d++) {
        for (let i = 0; i < 3; i++) store.submitSync(apply(`dep${d}`, { burst, i }));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const expected = Array.from({ length: 20 }, (_, d) => store.eventsSince("acme", `dep${d}`, 0, 1000).events.length).reduce((a, b) => a + b, 0);
    await until(() => store.nextDeliveryDueAt() === null, "every delivery settled", 30_000);
    const seen = new Map<string, { seq: number; delivery: string }[]>();
    for (const r of receiver.requests) {
      const e = JSON.parse(r.body) as { seq: number; deployment: string };
      seen.set(e.deployment, [...(seen.get(e.deployment) ?? []), { seq: e.seq, delivery: String(r.headers["x-fediversity-delivery"]) }]);
    }
    expect(seen.size).toBe(20);
    let repeats = 0;
    for (const [dep, got] of seen) {
      // At least once: an attempt whose answer was late is repeated (same delivery id) before the next seq is sent.
      const collapsed = got.filter((g, i) => {
        const prev = got[i - 1];
        if (prev && prev.seq === g.seq) {
          expect(g.delivery).toBe(prev.delivery);
          repeats += 1;
          return false;
        }
        return true;
      });
      const stored = store.eventsSince("acme", dep, 0, 1000).events.map((e) => e.seq);
      expect(collapsed.map((g) => g.seq), dep).toEqual(stored);
    }
    expect(receiver.requests.length - repeats).toBe(expected);
    expect(repeats).toBe(recorded.filter((r) => r.outcome === "retry").length);
    expect(store.listDeliveries("acme", view.webhook, { limit: 500 }).deliveries.every((d) => d.state === "delivered")).toBe(true);
  });

  it("a deleted webhook's pending deliveries are dropped and nothing more is sent", async () => {
    const { view } = addWebhook();
    receiver.answer = () => ({ kind: "status", status: 503 });
    store.submitSync(apply("mastodon", { n: 1 }, { mode: "enqueue" }));
    store.submitSync(apply("mastodon", { n: 2 }, { mode: "enqueue" }));
    startWorker({ ...fast, giveUpAfterMs: 60_000 });
    await receiver.waitFor(2);
    store.deleteWebhook("acme", view.webhook);
    const count = receiver.requests.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(receiver.requests.length).toBeLessThanOrEqual(count + 1); // at most the attempt already in flight
    expect(store.nextDeliveryDueAt()).toBeNull();
    expect(() => store.listDeliveries("acme", view.webhook)).toThrow(/no webhook/);
  });

  it("stop waits for attempts in flight and records them", async () => {
    const { view } = addWebhook();
    receiver.answer = () => ({ kind: "hang" });
    store.submitSync(apply("mastodon"));
    const w = startWorker();
    await receiver.waitFor(1);
    await w.stop();
    worker = undefined;
    const [d] = store.listDeliveries("acme", view.webhook).deliveries;
    expect(d).toMatchObject({ state: "pending", attempts: 1, last_error: "no answer within 300 ms" });
  });
});
