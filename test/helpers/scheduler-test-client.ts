/**
 * Test-only: a plain connect client for the local scheduler and small stream helpers
 * (collect events until terminal, remember the x-rio-build-id header).
 */
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { AdminService } from "../../generated/admin_pb.js";
import { SchedulerService } from "../../generated/scheduler_pb.js";

export interface SchedulerClients {
  readonly scheduler: Client<typeof SchedulerService>;
  readonly admin: Client<typeof AdminService>;
}

export function connectScheduler(url: string): SchedulerClients {
  const transport = createGrpcTransport({ baseUrl: url });
  return { scheduler: createClient(SchedulerService, transport), admin: createClient(AdminService, transport) };
}

export const isTerminalEvent = (e: BuildEvent): boolean =>
  e.event.case === "completed" || e.event.case === "failed" || e.event.case === "cancelled";

export interface EventStream {
  /** Resolves with the build id once the response headers arrived. */
  readonly buildId: Promise<string>;
  readonly events: BuildEvent[];
  /** Resolves when the stream ends (EOF or error); rejects never. */
  readonly ended: Promise<{ error?: unknown }>;
  /** Waits until an event matching `pred` arrived (bounded). */
  waitFor(pred: (e: BuildEvent) => boolean, timeoutMs?: number): Promise<BuildEvent>;
  abort(): void;
}

export function openStream(start: (signal: AbortSignal, onHeader: (h: Headers) => void) => AsyncIterable<BuildEvent>): EventStream {
  const controller = new AbortController();
  const events: BuildEvent[] = [];
  const waiters = new Set<() => void>();
  let setId!: (id: string) => void;
  let failId!: (e: unknown) => void;
  const buildId = new Promise<string>((res, rej) => {
    setId = res;
    failId = rej;
  });
  buildId.catch(() => undefined);
  let done = false;
  const ended = (async () => {
    try {
      for await (const e of start(controller.signal, (h) => {
        const id = h.get("x-rio-build-id");
        if (id) setId(id);
      })) {
        events.push(e);
        for (const w of waiters) w();
      }
      failId(new Error("stream ended without x-rio-build-id"));
      return {};
    } catch (error) {
      failId(error);
      return { error };
    } finally {
      done = true;
      for (const w of waiters) w();
    }
  })();
  return {
    buildId,
    events,
    ended,
    abort: () => controller.abort(),
    waitFor(pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = events.find(pred);
          if (hit) {
            finish();
            resolve(hit);
            return true;
          }
          if (done) {
            finish();
            reject(new Error(`stream ended without the awaited event; got ${events.map((e) => e.event.case).join(",")}`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out; got ${events.map((e) => e.event.case).join(",")}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        if (!check()) waiters.add(check);
      });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
