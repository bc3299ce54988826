/**
 * Webhook delivery benchmark: `npx tsx bench/webhooks.ts [deployments=200] [per-deployment=100]`.
 *
 * The delivery path as src/main.ts wires it — the SQLite store with its outbox, the delivery loop,
 * the HTTP sender with the address policy and sealed secrets — in this process; the receiver, a
 * plain node:http server that answers 204 at once, in a child process (its CPU is not ours, its
 * clock is the same wall clock). Events are stored through the store's own operations
 * (`submitSync`: each submit stores a `sync.queued` event, and its delivery in the same commit).
 *
 * Prints:
 * 1. deliveries/s: a backlog of deployments × per-deployment deliveries (one lane per deployment)
 *    stored first, then drained; timed from the loop's start until the receiver has them all and
 *    the loop has recorded them. Target ≥ 2,000/s.
 * 2. event stored → delivery received, p50/p99/max, at 100 events/s for 20 s over 50 deployments:
 *    from the moment the commit that stored the event returned to the receiver's arrival time.
 *    Target p99 < 50 ms.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../src/store/index.js";
import { createAddressPolicy, createDeliveryWorker, createHttpSender, createSecretBox, defaultRetrySchedule, newWebhookSecret } from "../src/webhooks/index.js";

type FromReceiver = { type: "ready"; port: number } | { type: "arrivals"; items: [string, number][] };

if (process.argv[2] === "receiver") {
  // Child: answer at once; report (delivery id, arrival wall-clock ms) in batches.
  let pending: [string, number][] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      pending.push([String(req.headers["x-fediversity-delivery"]), performance.timeOrigin + performance.now()]);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    process.send?.({ type: "ready", port: typeof addr === "object" && addr ? addr.port : 0 } satisfies FromReceiver);
  });
  setInterval(() => {
    if (pending.length === 0) return;
    process.send?.({ type: "arrivals", items: pending } satisfies FromReceiver);
    pending = [];
  }, 5);
  process.once("disconnect", () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  const deployments = Number(process.argv[2] ?? 200);
  const perDeployment = Number(process.argv[3] ?? 100);
  const dir = mkdtempSync(join(tmpdir(), "fd-bench-webhooks-"));
  const child = fork(fileURLToPath(import.meta.url), ["receiver"], { execArgv: ["--import", "tsx"] });
  const arrivals = new Map<string, number>();
  let onArrival: (() => void) | null = null;
  const port = await new Promise<number>((resolve) => {
    child.on("message", (m: FromReceiver) => {
      if (m.type === "ready") resolve(m.port);
      else {
        for (const [id, at] of m.items) if (!arrivals.has(id)) arrivals.set(id, at);
        onArrival?.();
      }
    });
  });
  const waitArrivals = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (arrivals.size >= n) {
          onArrival = null;
          resolve();
        }
      };
      onArrival = check;
      check();
    });

  const store = openStore({ path: join(dir, "fediversity.sqlite") });
  const box = createSecretBox(randomBytes(32));
  const sender = createHttpSender({ policy: createAddressPolicy({ allowPrivate: true }) });
  let recorded = 0;
  const worker = createDeliveryWorker({
    queue: { claim: (i) => store.claimDeliveries(i), record: (o) => store.recordDeliveryOutcomes(o), nextDueAt: () => store.nextDeliveryDueAt() },
    sender,
    openSecret: (id, sealed) => box.open(id, sealed),
    schedule: defaultRetrySchedule,
    timeoutMs: 10_000,
    onRecorded: (o) => (recorded += o.length),
  });
  store.onCommit((batch) => {
    if (batch.events.length > 0) worker.notify();
  });
  const secret = newWebhookSecret();
  for (const tenant of ["bench", "latency"]) {
    store.createWebhook({ tenant, url: `http://127.0.0.1:${port}/hook`, events: ["sync.queued"], deployment: null, description: null, sealSecret: (id) => box.seal(id, secret) });
  }

  // 1. Throughput: store the backlog, then drain it.
  const total = deployments * perDeployment;
  const t0 = performance.now();
  for (let i = 0; i < perDeployment; i++) {
    for (let d = 0; d < deployments; d++) store.submitSync({ tenant: "bench", deployment: `d${d}`, deploymentType: "t", kind: "apply", configuration: { i } });
  }
  console.log(`stored ${total.toLocaleString("en")} deliveries (${deployments} deployments × ${perDeployment}) in ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${loadavg()[0]?.toFixed(1)}`);
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  worker.start();
  await waitArrivals(total);
  while (recorded < total) await new Promise((r) => setTimeout(r, 5));
  const secs = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `deliveries/s to a receiver answering at once: ${Math.round(total / secs).toLocaleString("en")}/s (${total.toLocaleString("en")} in ${secs.toFixed(2)} s; ` +
      `service CPU ${(((cpu.user + cpu.system) / 1000 / total) * 1000).toFixed(0)} µs per delivery; target ≥ 2,000/s)`,
  );

  // 2. Latency at 100 events/s over 50 deployments.
  const stored = new Map<string, number>();
  const seconds = 20;
  const count = seconds * 100;
  arrivals.clear();
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + i * 10;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    store.submitSync({ tenant: "latency", deployment: `l${i % 50}`, deploymentType: "t", kind: "apply", configuration: { i } });
    stored.set(String(i), performance.timeOrigin + performance.now());
  }
  await waitArrivals(count);
  // Match deliveries to events: the delivery ids were made in commit order (monotonic ULIDs), and so were the events.
  const ids = [...arrivals.keys()].sort();
  const latencies = ids.map((id, k) => (arrivals.get(id) ?? 0) - (stored.get(String(k)) ?? 0)).sort((a, b) => a - b);
  const q = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(1);
  console.log(`event stored → delivery received at 100 events/s: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (${count} events; target p99 < 50 ms)`);

  await worker.stop();
  sender.close();
  store.close();
  child.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
