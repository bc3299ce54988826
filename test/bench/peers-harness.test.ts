/**
 * bench/peers.ts measures what it claims with every peer: each router (embedded, fox-wamp,
 * wamp-server) delivers every event and answers every call through the shared clients, the idle
 * memory probe sees sessions cost something, and each rio reader variant reads the whole injected
 * stream. Small sizes: this checks the instrument, not the figures (those are never asserted).
 */
import { afterAll, describe, expect, it } from "vitest";
import { startLoadWatch } from "../../bench/peers/load-watch.js";
import { createRioBench } from "../../bench/peers/rio-figures.js";
import { createWampBench, wampFigures } from "../../bench/peers/wamp-figures.js";

const load = startLoadWatch();
afterAll(() => void load.stop());

describe("bench/peers harness", () => {
  it("drives all three routers through every figure", { timeout: 240_000 }, async () => {
    const routers = ["embedded", "fox-wamp", "wamp-server"] as const;
    const bench = await createWampBench(routers, { events1: 2000, events10: 500, calls1: 200, calls50: 1000, idle: 100, runTimeoutMs: 30_000 }, load);
    try {
      for (const router of routers) {
        for (const figure of wampFigures) {
          const s = await bench.run(figure, router);
          expect(s.incomplete, `${router} ${figure}`).toBeUndefined();
          expect(s.value, `${router} ${figure}`).toBeGreaterThan(0);
          if (figure === "idle-memory") {
            // A joined session holds a socket and session state; a megabyte each would be a broken probe.
            expect(s.value, `${router} heap per idle session`).toBeLessThan(1024 * 1024);
            expect(s.rssPerSession, `${router} RSS per idle session`).toBeDefined();
          } else {
            expect(s.cpuUsPerOp, `${router} ${figure} router CPU`).toBeGreaterThan(0);
            expect(s.clientCpuUsPerOp, `${router} ${figure} client CPU`).toBeGreaterThan(0);
          }
        }
      }
    } finally {
      await bench.close();
    }
  });

  it("reads the whole injected stream with each reader variant", { timeout: 240_000 }, async () => {
    const bench = await createRioBench({ events: 3000, skip: 300, runTimeoutMs: 60_000 }, load);
    try {
      for (const variant of ["rio", "grpc-js"] as const) {
        const r = await bench.run(variant);
        expect(r.rate.incomplete, variant).toBeUndefined();
        expect(r.rate.value, variant).toBeGreaterThan(0);
        expect(r.cpu.value, variant).toBeGreaterThan(0);
      }
    } finally {
      await bench.close();
    }
  });
});
