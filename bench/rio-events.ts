/**
 * BuildEvent throughput and client-added latency of the rio client, over loopback gRPC against
 * the local scheduler, which runs in a child process (bench/rio-events-peer.ts) so that server
 * and client each have their own event loop.
 *
 * Method
 * - A real build (`sleep`) keeps a build live; once it is running the scheduler's benchmark hook
 *   injects N synthetic log events as fast as it can into that build's stream.
 * - Throughput: N / (time the consumer got the last injected event − time it got the first).
 *   This is end to end, so on a loaded machine the server side usually limits it; the client's
 *   own cost is reported as CPU time per event (process.cpuUsage over the same window), and the
 *   capacity that implies for one core.
 * - Added latency: the client's `onWireEvent` hook stamps each BuildEvent with performance.now()
 *   as soon as it is decoded off the wire (the bottom of the client's pipeline); the consumer
 *   (`onEvent` of follow) takes the difference when the same event reaches it. That span is
 *   what src/rio adds above the decode: sequence checks, mapping to RioEvent (UTF-8 decode of
 *   the lines, timestamp to RFC 3339) and delivery. The next message is read only after the
 *   consumer returns, so the span contains no queueing inside the client.
 * - The same figure for a bare @grpc/grpc-js reader of the same stream, interleaved: bench/peers.ts --only rio.
 *
 * Run: npx tsx bench/rio-events.ts [events=200000]
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { nixConfigText } from "../src/nix-env.js";
import { createRioClient } from "../src/rio/index.js";
import { instantiateFixture } from "../test/rio/nix-fixture.js";

process.env.NIX_CONFIG = nixConfigText();
const total = Number(process.argv[2] ?? 200_000);

async function main(): Promise<void> {
  const peer: ChildProcess = fork(fileURLToPath(new URL("./rio-events-peer.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
  });
  const [ready] = (await once(peer, "message")) as [{ url: string }];
  // Arrival stamps indexed by sequence (the build's own events come first, then the injected ones).
  const arrival = new Float64Array(total + 1000);
  const rio = createRioClient({
    url: ready.url,
    hooks: {
      onWireEvent: (_buildId, seq) => {
        if (seq < arrival.length) arrival[seq] = performance.now();
      },
    },
  });
  const fx = await instantiateFixture([{ name: "bench-holder", script: "sleep 120; echo x > $out" }]);
  const build = await rio.submit({ dag: fx.dag });

  const latencies = new Float64Array(total);
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  let injecting: Promise<void> | undefined;
  let injectMs = NaN;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let cpuSpent: NodeJS.CpuUsage = { user: 0, system: 0 };
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const ctrl = new AbortController();

  const following = build.follow({
    signal: ctrl.signal,
    onEvent: (e) => {
      if (e.type === "log" && e.executorId === "bench") {
        const now = performance.now();
        if (received === 0) {
          firstAt = now;
          cpuAtFirst = process.cpuUsage();
        }
        lastAt = now;
        latencies[received] = now - (arrival[e.sequence] ?? now);
        received += 1;
        if (received === total) {
          cpuSpent = process.cpuUsage(cpuAtFirst);
          done();
        }
      } else if (e.type === "derivation" && e.kind === "started" && !injecting) {
        injecting = once(peer, "message").then(([m]) => {
          injectMs = (m as { ms: number }).ms;
        });
        peer.send({ inject: true, buildId: build.buildId, count: total });
      }
    },
  });
  await finished;
  await injecting;
  ctrl.abort();
  await following;
  await rio.cancel(build.buildId, "benchmark done");
  rio.close();
  peer.send({ close: true });
  await once(peer, "exit");

  const sorted = Array.from(latencies.subarray(0, received)).sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  const rate = (received - 1) / ((lastAt - firstAt) / 1000);
  console.log(`events:                 ${received}`);
  console.log(`throughput:             ${Math.round(rate).toLocaleString("en")} BuildEvents/s (target >= 50,000)`);
  console.log(`server emit rate:        ${Math.round(total / (injectMs / 1000)).toLocaleString("en")} events/s (scheduler side, for context)`);
  const cpuPerEventUs = (cpuSpent.user + cpuSpent.system) / received;
  console.log(
    `client CPU per event:    ${cpuPerEventUs.toFixed(1)} µs (whole client process: HTTP/2, decode, src/rio, consumer)` +
      ` → ≈ ${Math.round(1e6 / cpuPerEventUs).toLocaleString("en")} events/s on one core`,
  );
  const us = (p: number) => `${(pct(p) * 1000).toFixed(1)} µs`;
  console.log(
    `client added latency:   p50 ${us(50)}, p99 ${us(99)} (${pct(99).toFixed(4)} ms), max ${pct(100).toFixed(3)} ms (target p99 < 2 ms)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
