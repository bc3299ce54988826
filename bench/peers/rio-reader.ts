/**
 * One reader of a build's event stream, in a process of its own so that its CPU time is its own
 * (bench/peers.ts). Variants, all ending in the same consumer:
 *   rio             the project's client: createRioClient().follow() (connect-node, src/rio)
 *   grpc-js         a bare @grpc/grpc-js call with the generated protobuf-es codecs, and per
 *                   message what follow.ts does: sequence checks, toRioEvent, delivery
 *                   (separates the transport's cost from the loop's)
 * Requests: `attach {url, buildId, count, skip}` resolves once the first (replayed) event is in;
 * `finish {timeoutMs}` resolves when `count` injected events arrived, with the time and this
 * process's CPU between event `skip` and the last (the first ones pay for JIT warm-up).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { BuildEventSchema, WatchBuildRequestSchema, type BuildEvent, type WatchBuildRequest } from "../../generated/build_types_pb.js";
import { SchedulerService } from "../../generated/scheduler_pb.js";
import { toRioEvent } from "../../src/rio/event-mapping.js";
import { createRioClient, type RioEvent } from "../../src/rio/index.js";
import { serveParent } from "./child-link.js";

export type ReaderVariant = "rio" | "grpc-js";

interface Window {
  readonly events: number;
  readonly ms: number;
  readonly cpuUs: number;
}

const variant = process.argv[2] as ReaderVariant;
const watchBuildPath = `/${SchedulerService.typeName}/${SchedulerService.method.watchBuild.name}`;

let stop: (() => void) | undefined;
let finished: Promise<Window | undefined> | undefined;

/** The consumer every variant delivers to: counts the injected events and times a window of them. */
function createConsumer(count: number, skip: number, onFirst: () => void, onDone: (w: Window) => void): (e: RioEvent) => void {
  let first = true;
  let n = 0;
  let t0 = 0;
  let cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
  return (e) => {
    if (first) {
      first = false;
      onFirst();
    }
    if (e.type !== "log" || e.executorId !== "bench") return;
    n++;
    if (n === skip) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    } else if (n === count) {
      const cpu = process.cpuUsage(cpu0);
      onDone({ events: count - skip, ms: performance.now() - t0, cpuUs: cpu.user + cpu.system });
    }
  };
}

function openGrpcJsCall(url: string, buildId: string): grpc.ClientReadableStream<BuildEvent> {
  const client = new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
  return client.makeServerStreamRequest<WatchBuildRequest, BuildEvent>(
    watchBuildPath,
    (req) => Buffer.from(toBinary(WatchBuildRequestSchema, req)),
    (buf) => fromBinary(BuildEventSchema, buf),
    create(WatchBuildRequestSchema, { buildId, sinceSequence: 0n }),
  );
}

/** grpc-js, one `data` callback per message doing what follow.ts's loop body does. */
function readBare(
  url: string,
  buildId: string,
  onEvent: (e: RioEvent) => void,
  hooks: { onGap?(after: number, next: number): void } = {},
): () => void {
  const call = openGrpcJsCall(url, buildId);
  let last = 0;
  let cancelled = false;
  call.on("data", (msg: BuildEvent) => {
    const seq = Number(msg.sequence);
    const c = msg.event.case;
    if (c === "completed" || c === "failed" || c === "cancelled") {
      onEvent(toRioEvent(msg)!);
      call.cancel();
      return;
    }
    if (seq <= last) return;
    if (seq > last + 1 && last > 0) hooks.onGap?.(last, seq); // as follow.ts, which reports gaps to a hook
    last = seq;
    const ev = toRioEvent(msg);
    if (ev !== null) onEvent(ev);
  });
  call.on("error", (err: grpc.ServiceError) => {
    if (!cancelled) console.error(`grpc-js reader: ${err.message}`);
  });
  return () => {
    cancelled = true;
    call.cancel();
  };
}

function readRio(url: string, buildId: string, onEvent: (e: RioEvent) => void): () => void {
  const rio = createRioClient({ url });
  const ctrl = new AbortController();
  void rio
    .follow(buildId, { since: 0, signal: ctrl.signal, onEvent })
    .catch((err: unknown) => console.error(`rio reader: ${String(err)}`))
    .finally(() => rio.close());
  return () => ctrl.abort();
}

function attach(url: string, buildId: string, count: number, skip: number): Promise<void> {
  return new Promise((attached) => {
    finished = new Promise((done) => {
      const consumer = createConsumer(count, Math.max(1, skip), attached, done);
      switch (variant) {
        case "rio":
          stop = readRio(url, buildId, consumer);
          break;
        case "grpc-js":
          stop = readBare(url, buildId, consumer);
          break;
        default: {
          const never: never = variant;
          throw new Error(`unknown reader ${String(never)}`);
        }
      }
    });
  });
}

serveParent(
  { variant },
  async (m) => {
    switch (m.cmd) {
      case "attach":
        return attach(m.url as string, m.buildId as string, m.count as number, m.skip as number);
      case "finish": {
        const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), m.timeoutMs as number).unref());
        const w = await Promise.race([finished, timeout]);
        stop?.();
        if (!w) throw new Error(`not all ${String(m.count ?? "")} events arrived in time`);
        return w;
      }
      default:
        throw new Error(`unknown request ${String(m.cmd)}`);
    }
  },
  () => stop?.(),
);
