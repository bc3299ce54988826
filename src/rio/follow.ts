/**
 * Staying attached to a build: deliver every event once, in order, until a terminal event,
 * re-attaching with WatchBuild(since_sequence = last seen) whenever the stream breaks or ends
 * without one (docs/rio-build.md, client rules 4, 5 and 7).
 */
import type { Logger } from "pino";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { AppError } from "../errors.js";
import { backoffDelay, sleep, type BackoffPolicy } from "./backoff.js";
import { toRioEvent } from "./event-mapping.js";
import { isRetryable, toAppError } from "./grpc-errors.js";
import { stopReading, type ConsumerResult, type OpenStream } from "./stream-call.js";
import type { FollowOutcome, RioEvent, TerminalRioEvent } from "./types.js";

export interface ReattachInfo {
  readonly buildId: string;
  /** Failed tries in a row, 1-based. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly lastSequence: number;
  /** "eof" for a stream that ended without a terminal event, else the AppError code. */
  readonly reason: string;
}

export interface FollowHooks {
  onReattach?(info: ReattachInfo): void;
  /** A sequence gap (expected after re-attach: log events are not replayed). */
  onGap?(info: { buildId: string; after: number; next: number }): void;
  /**
   * While following: a BuildEvent decoded off the wire, before any check or mapping (benchmarks
   * stamp arrival times here). Called on the hot path: keep it cheap.
   */
  onWireEvent?(buildId: string, sequence: number): void;
}

export interface FollowOptions {
  /** Last sequence already handled (0 = from the beginning). */
  readonly since?: number;
  readonly signal?: AbortSignal;
  /** Awaited before the next event is delivered, so a slow consumer applies backpressure. */
  readonly onEvent: (event: RioEvent) => void | Promise<void>;
}

export interface FollowDeps {
  readonly buildId: string;
  readonly watch: (sinceSequence: number, signal: AbortSignal | undefined) => Promise<OpenStream<BuildEvent>>;
  /** An already open stream to drain first (SubmitBuild's), consumed at most once. */
  readonly initial?: OpenStream<BuildEvent>;
  readonly policy: BackoffPolicy;
  readonly logger: Logger;
  readonly hooks: FollowHooks;
}

export async function followBuild(deps: FollowDeps, opts: FollowOptions): Promise<FollowOutcome> {
  const { buildId, policy, logger, hooks } = deps;
  const { signal, onEvent } = opts;
  let last = opts.since ?? 0;
  let failures = 0;
  let pending = deps.initial;
  // The submit stream was opened without the caller's signal; tear down whichever stream is current.
  let current: OpenStream<BuildEvent> | undefined;
  /** Set by onMessage when it delivers the terminal event. */
  let terminal: FollowOutcome | undefined;
  const onAbort = (): void => current?.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await followLoop();
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }

  /** One wire event: called by the stream, once per message, with no allocation of its own. */
  function onMessage(msg: BuildEvent): ConsumerResult {
    const seq = Number(msg.sequence);
    hooks.onWireEvent?.(msg.buildId, seq);
    const c = msg.event.case;
    if (c === "completed" || c === "failed" || c === "cancelled") {
      // Never dropped on sequence: a replayed terminal may carry seq == since (docs/rio-build.md, behaviour 2).
      const ev = toRioEvent(msg) as TerminalRioEvent;
      terminal = { type: "terminal", event: ev, lastSequence: Math.max(last, seq) };
      const delivering = deliver(onEvent, ev);
      return delivering === undefined ? stopReading : delivering.then(() => stopReading);
    }
    if (seq <= last) return; // replay overlap or a duplicate after re-attach
    failures = 0; // new events flow again: the next outage gets the full retry budget
    if (seq > last + 1 && last > 0) hooks.onGap?.({ buildId, after: last, next: seq });
    last = seq;
    const ev = toRioEvent(msg);
    if (ev === null) return; // an event type newer than our proto
    return deliver(onEvent, ev);
  }

  async function followLoop(): Promise<FollowOutcome> {
    while (true) {
      if (signal?.aborted) {
        pending?.abort();
        return { type: "aborted", lastSequence: last };
      }
      let reason: string;
      try {
        const stream = pending ?? (await deps.watch(last, signal));
        pending = undefined;
        current = stream;
        terminal = undefined;
        if (signal?.aborted) stream.abort();
        await stream.consume(onMessage);
        if (terminal !== undefined) return terminal;
        stream.abort(); // releases the signal listener; the call is already over
        reason = "eof";
      } catch (err) {
        pending = undefined;
        current?.abort();
        if (err instanceof ConsumerFailure) throw err.cause;
        if (signal?.aborted) return { type: "aborted", lastSequence: last };
        const e = toAppError(err);
        if (e.code === "not_found") {
          logger.info({ buildId, lastSequence: last }, "rio no longer knows the build");
          return { type: "gone", lastSequence: last };
        }
        if (!isRetryable(e)) throw e;
        reason = e.code;
      }
      failures += 1;
      if (failures > policy.maxAttempts) {
        throw new AppError(
          "unavailable",
          `lost the event stream of build ${buildId} and ${policy.maxAttempts} re-attach tries failed (last: ${reason})`,
        );
      }
      const delayMs = backoffDelay(policy, failures);
      logger.warn({ buildId, attempt: failures, delayMs, lastSequence: last, reason }, "re-attaching to rio build");
      hooks.onReattach?.({ buildId, attempt: failures, delayMs, lastSequence: last, reason });
      await sleep(delayMs, signal);
    }
  }
}

/** Marks an error thrown by the caller's onEvent, so it propagates instead of causing a re-attach. */
class ConsumerFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * Calls the consumer; returns its promise only when it returned one, so a synchronous consumer
 * costs no extra microtask per event. Its failures are marked so they propagate (the stream
 * cancels its call on them).
 */
function deliver(onEvent: FollowOptions["onEvent"], ev: RioEvent): Promise<void> | undefined {
  let r: void | Promise<void>;
  try {
    r = onEvent(ev);
  } catch (err) {
    throw new ConsumerFailure(err);
  }
  if (r === undefined) return undefined;
  return r.catch((err: unknown) => {
    throw new ConsumerFailure(err);
  });
}
