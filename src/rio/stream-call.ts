/**
 * Opens a server-streaming call and waits for its response headers, with a bound on that wait
 * only: builds run for hours, so the stream itself never gets a deadline (docs/rio-build.md, client
 * rule 8). The messages are then pushed to one consumer, one at a time, with no per-message
 * promise or iterator unless the consumer itself returns a promise.
 */
import type { DescMessage, DescMethodServerStreaming, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Metadata } from "@grpc/grpc-js";
import { AppError } from "../errors.js";
import type { CallHandle, RioChannel } from "./grpc-channel.js";

/** Returned by a consumer that wants no more messages: the call is cancelled and consume() resolves. */
export const stopReading = Symbol("stop reading");

export type ConsumerResult = void | typeof stopReading | Promise<void | typeof stopReading>;

export interface OpenStream<O> {
  /** A response header's first value. */
  header(name: string): string | undefined;
  /**
   * Hands the messages to `onMessage` in order. The next one is read off the wire only after
   * onMessage returned (or the promise it returned settled), so a slow consumer holds the peer
   * back through HTTP/2 flow control. Resolves at the end of the stream or once onMessage returned
   * `stopReading`; rejects with the call's failure as an AppError (`cancelled` after abort()), or
   * with whatever onMessage threw or rejected with (the call is then cancelled). Never settles
   * while a promise of onMessage is pending. Call once.
   */
  consume(onMessage: (message: O) => ConsumerResult): Promise<void>;
  /** Tears the call down (a running consume() then rejects `cancelled`). */
  abort(): void;
}

export interface OpenStreamOptions {
  /** Bound on the wait for response headers; ≤ 0 = unbounded. */
  readonly headerTimeoutMs: number;
  readonly signal?: AbortSignal;
}

export function openStream<I extends DescMessage, O extends DescMessage>(
  channel: RioChannel,
  method: DescMethodServerStreaming<I, O>,
  input: MessageInitShape<I>,
  opts: OpenStreamOptions,
): Promise<OpenStream<MessageShape<O>>> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(new AppError("cancelled", `${method.name} not started: aborted`));
  return new Promise((resolveOpen, rejectOpen) => {
    let header: Metadata | undefined;
    let opened = false;
    let timedOut = false;
    /** The call's end: undefined while it runs, null for OK. */
    let end: AppError | null | undefined;
    let onMessage: ((message: MessageShape<O>) => ConsumerResult) | undefined;
    let resolveConsume: (() => void) | undefined;
    let rejectConsume: ((err: unknown) => void) | undefined;
    /** A promise of the consumer is pending. */
    let busy = false;
    let settled = false;

    const forwardAbort = (): void => handle.cancel();
    const detach = (): void => signal?.removeEventListener("abort", forwardAbort);

    const settle = (err: unknown): void => {
      if (settled || resolveConsume === undefined) return;
      settled = true;
      detach();
      if (err === undefined) resolveConsume();
      else rejectConsume?.(err);
    };
    const stop = (): void => {
      handle.cancel(); // rio keeps a stream open after its last event; we are done with it
      settle(undefined);
    };
    const fail = (err: unknown): void => {
      handle.cancel();
      settle(err);
    };
    const afterConsumer = (r: void | typeof stopReading): void => {
      busy = false;
      if (r === stopReading) stop();
      else if (end !== undefined) settle(end ?? undefined);
      else handle.read();
    };
    const consumerFailed = (err: unknown): void => {
      busy = false;
      fail(err);
    };

    const stream: OpenStream<MessageShape<O>> = {
      header(name) {
        const v = header?.get(name)[0];
        return typeof v === "string" ? v : undefined;
      },
      consume(fn) {
        if (onMessage !== undefined) return Promise.reject(new AppError("internal", `${method.name}: consumed twice`));
        onMessage = fn;
        return new Promise<void>((resolve, reject) => {
          resolveConsume = resolve;
          rejectConsume = reject;
          if (end !== undefined) settle(end ?? undefined);
          else handle.read();
        });
      },
      abort() {
        detach();
        handle.cancel();
      },
    };

    let timer: NodeJS.Timeout | undefined;
    const handle: CallHandle = channel.serverStream(method, input, 0, {
      onHeader(metadata) {
        clearTimeout(timer);
        header = metadata;
        opened = true;
        resolveOpen(stream);
      },
      onMessage(message) {
        if (settled) return;
        let r: ConsumerResult;
        try {
          r = onMessage!(message);
        } catch (err) {
          fail(err);
          return;
        }
        if (r === undefined) handle.read();
        else if (r === stopReading) stop();
        else {
          busy = true;
          r.then(afterConsumer, consumerFailed);
        }
      },
      onEnd(error) {
        end = error;
        if (!opened) {
          // No headers: a refusal answered Trailers-Only, a failed connection, the header timeout or an abort.
          clearTimeout(timer);
          detach();
          opened = true;
          if (timedOut) {
            rejectOpen(new AppError("timeout", `${method.name}: no response headers within ${opts.headerTimeoutMs} ms`));
          } else if (error) rejectOpen(error);
          else resolveOpen(stream); // OK without headers or messages: an empty stream
          return;
        }
        if (!busy) settle(error ?? undefined);
      },
    });
    // Set up after the call exists (its callbacks never run synchronously).
    if (opts.headerTimeoutMs > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        handle.cancel();
      }, opts.headerTimeoutMs);
    }
    signal?.addEventListener("abort", forwardAbort, { once: true });
  });
}
