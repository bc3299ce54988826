/**
 * The rio half of bench/peers.ts: readers of the local scheduler's synthetic event stream, one
 * fresh process per run (./rio-reader.ts), against one scheduler process (./rio-scheduler-host.ts).
 */
import { startChild, type ChildLink } from "./child-link.js";
import type { LoadWatch } from "./load-watch.js";
import type { ReaderVariant } from "./rio-reader.js";
import type { Sample } from "./wamp-figures.js";

export interface RioSizes {
  /** Events injected per run. */
  readonly events: number;
  /** Events read before the measured window opens. */
  readonly skip: number;
  readonly runTimeoutMs: number;
}

export interface RioRun {
  /** Events/s through the window (end to end: the scheduler's emit rate can be the limit). */
  readonly rate: Sample;
  /** The reader process's CPU µs per event in the window. */
  readonly cpu: Sample;
}

export interface RioBench {
  run(variant: ReaderVariant): Promise<RioRun>;
  close(): Promise<void>;
}

export async function createRioBench(sizes: RioSizes, load: LoadWatch): Promise<RioBench> {
  const scheduler = await startChild("./rio-scheduler-host.ts", []);
  load.track(scheduler.pid);
  const { url, buildId } = scheduler.hello as { url: string; buildId: string };

  async function run(variant: ReaderVariant): Promise<RioRun> {
    const reader: ChildLink = await startChild("./rio-reader.ts", [variant]);
    load.track(reader.pid);
    try {
      await reader.request({ cmd: "attach", url, buildId, count: sizes.events, skip: sizes.skip }, 60_000);
      const injected = scheduler.request({ cmd: "inject", count: sizes.events }, sizes.runTimeoutMs + 60_000);
      const w = await reader
        .request<{ events: number; ms: number; cpuUs: number }>({ cmd: "finish", timeoutMs: sizes.runTimeoutMs }, sizes.runTimeoutMs + 30_000)
        .catch((e: Error) => e);
      await injected;
      if (w instanceof Error) return { rate: { value: NaN, incomplete: w.message }, cpu: { value: NaN, incomplete: w.message } };
      return { rate: { value: (w.events / w.ms) * 1000 }, cpu: { value: w.cpuUs / w.events } };
    } finally {
      load.untrack(reader.pid);
      await reader.close();
    }
  }

  // Warm-up, not recorded: the scheduler's side of the stream compiles its hot path once.
  await run("grpc-js");

  return {
    run,
    close: () => scheduler.close(),
  };
}
