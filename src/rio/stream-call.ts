/**
 * Opens a server-streaming call and waits for its response headers, with a bound on that wait
 * only: builds run for hours, so the stream itself never gets a deadline (docs/rio-build.md, client rule 8).
 */
import type { DescMessage, DescMethodServerStreaming, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { AppError } from "../errors.js";
import { toAppError } from "./grpc-errors.js";

export interface OpenStream<O> {
  readonly header: Headers;
  /**
   * Ends on EOF; throws the transport's error (map it with toAppError) on a reset or a non-OK
   * status. Not wrapped, to keep the per-event path short. Iterate once.
   */
  readonly messages: AsyncIterable<O>;
  /** Tears the call down (the iterator then throws `cancelled`). */
  abort(): void;
}

export interface OpenStreamOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Bound on the wait for response headers; ≤ 0 = unbounded. */
  readonly headerTimeoutMs: number;
  readonly signal?: AbortSignal;
}

export async function openStream<I extends DescMessage, O extends DescMessage>(
  transport: Transport,
  method: DescMethodServerStreaming<I, O>,
  input: MessageInitShape<I>,
  opts: OpenStreamOptions,
): Promise<OpenStream<MessageShape<O>>> {
  const call = new AbortController();
  const { signal } = opts;
  const forwardAbort = (): void => call.abort(signal?.reason);
  if (signal?.aborted) throw new AppError("cancelled", `${method.name} not started: aborted`);
  signal?.addEventListener("abort", forwardAbort, { once: true });
  const detach = (): void => signal?.removeEventListener("abort", forwardAbort);

  let timedOut = false;
  const timer =
    opts.headerTimeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          call.abort();
        }, opts.headerTimeoutMs)
      : undefined;
  let res;
  try {
    // timeoutMs 0 disables connect's call deadline (and the grpc-timeout header).
    res = await transport.stream(method, call.signal, 0, opts.headers, createAsyncIterable([input]));
  } catch (err) {
    detach();
    if (timedOut) {
      throw new AppError("timeout", `${method.name}: no response headers within ${opts.headerTimeoutMs} ms`, undefined, {
        cause: err,
      });
    }
    throw toAppError(err, method.name);
  } finally {
    clearTimeout(timer);
  }
  return {
    header: res.header,
    messages: res.message,
    abort: () => {
      detach();
      call.abort();
    },
  };
}
