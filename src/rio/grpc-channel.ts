/**
 * The rio client's transport: one @grpc/grpc-js channel (one HTTP/2 connection with keepalive and
 * reconnects) carrying messages encoded with the protobuf-es schemas of generated/. Calls are
 * driven through the channel's call interface directly rather than grpc-js's stream objects, so
 * a streamed message costs one decode and one callback, and the next one is read only when asked
 * for (docs/rio-build.md, "The client's transport").
 */
import {
  fromBinary,
  toBinary,
  create,
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { AppError } from "../errors.js";
import { statusToAppError } from "./grpc-errors.js";

type GrpcCall = ReturnType<grpc.Channel["createCall"]>;

export interface RioChannelOptions {
  /** `http://host:port` (h2c, as rio serves) or `https://…`. */
  readonly url: string;
  /** Sent with every call (the tenant token). */
  readonly headers: Readonly<Record<string, string>>;
  readonly keepalive: { readonly pingIntervalMs: number; readonly pingTimeoutMs: number };
  readonly maxMessageBytes: number;
}

export interface CallListener<O> {
  /** The response headers; not called for a Trailers-Only answer (then onEnd comes first). */
  onHeader(header: grpc.Metadata): void;
  /** One message per read(). */
  onMessage(message: O): void;
  /** The last callback of every call: null for an OK status, else the status as an AppError. */
  onEnd(error: AppError | null): void;
}

export interface CallHandle {
  /** Asks for the next message; until then the HTTP/2 stream is paused (flow control holds the peer). */
  read(): void;
  /** Ends the call with CANCELLED (onEnd follows, asynchronously). Idempotent. */
  cancel(): void;
}

export interface RioChannel {
  /** Starts a server-streaming call; `deadlineMs` 0 = none (build streams last for hours). */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    input: MessageInitShape<I>,
    deadlineMs: number,
    listener: CallListener<MessageShape<O>>,
  ): CallHandle;
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    input: MessageInitShape<I>,
    timeoutMs: number,
  ): Promise<MessageShape<O>>;
  /** A finite server stream read to its end within `timeoutMs`. */
  collect<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    input: MessageInitShape<I>,
    timeoutMs: number,
  ): Promise<MessageShape<O>[]>;
  /** Cancels every open call and shuts the connection down; later calls fail `unavailable`. */
  close(): void;
}

export function createRioChannel(options: RioChannelOptions): RioChannel {
  const url = new URL(options.url);
  const secure = url.protocol === "https:";
  // URL.hostname keeps an IPv6 literal's brackets, as grpc-js's target syntax wants.
  const target = `${url.hostname}:${url.port || (secure ? "443" : "80")}`;
  const channel = new grpc.Channel(target, secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), {
    "grpc.keepalive_time_ms": options.keepalive.pingIntervalMs,
    "grpc.keepalive_timeout_ms": options.keepalive.pingTimeoutMs,
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
    "grpc.client_idle_timeout_ms": 15 * 60_000,
    // Our own schedules (backoff.ts) decide when to try again; the channel's reconnect backoff
    // (by default growing to 120 s, failing calls fast meanwhile) must not outlast them.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
    // Per-call and per-message bookkeeping for a channelz service we do not serve.
    "grpc.enable_channelz": 0,
  });
  const baseMetadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.headers)) baseMetadata.set(k, v);
  const open = new Set<GrpcCall>();
  let closed = false;

  function start<O extends DescMessage>(
    path: string,
    name: string,
    request: Uint8Array,
    output: O,
    deadlineMs: number,
    listener: CallListener<MessageShape<O>>,
  ): CallHandle {
    if (closed) {
      queueMicrotask(() => listener.onEnd(new AppError("unavailable", `${name}: the rio client is closed`)));
      return { read() {}, cancel() {} };
    }
    const call = channel.createCall(path, deadlineMs > 0 ? Date.now() + deadlineMs : Infinity, undefined, null, null);
    open.add(call);
    let ended = false;
    call.start(baseMetadata.clone(), {
      onReceiveMetadata: (metadata) => listener.onHeader(metadata),
      onReceiveMessage: (bytes: Buffer) => {
        let message: MessageShape<O>;
        try {
          message = fromBinary(output, bytes);
        } catch (err) {
          call.cancelWithStatus(grpc.status.INTERNAL, `undecodable ${output.typeName}: ${(err as Error).message}`);
          return;
        }
        listener.onMessage(message);
      },
      onReceiveStatus: (status) => {
        if (ended) return;
        ended = true;
        open.delete(call);
        listener.onEnd(status.code === grpc.status.OK ? null : statusToAppError(status, name));
      },
    });
    call.sendMessageWithContext({}, Buffer.from(request.buffer, request.byteOffset, request.byteLength));
    call.halfClose();
    return {
      read: () => call.startRead(),
      cancel: () => {
        if (!ended) call.cancelWithStatus(grpc.status.CANCELLED, "cancelled by the rio client");
      },
    };
  }

  const pathOf = (method: { parent: { typeName: string }; name: string }): string => `/${method.parent.typeName}/${method.name}`;

  return {
    serverStream(method, input, deadlineMs, listener) {
      const request = toBinary(method.input, create(method.input, input));
      return start(pathOf(method), method.name, request, method.output, deadlineMs, listener);
    },

    unary(method, input, timeoutMs) {
      const request = toBinary(method.input, create(method.input, input));
      return new Promise((resolve, reject) => {
        let response: MessageShape<typeof method.output> | undefined;
        const handle = start(pathOf(method), method.name, request, method.output, timeoutMs, {
          onHeader() {},
          onMessage(message) {
            response = message;
          },
          onEnd(error) {
            if (error) reject(error);
            else if (response === undefined) reject(new AppError("internal", `${method.name}: OK without a response message`));
            else resolve(response);
          },
        });
        handle.read();
      });
    },

    collect(method, input, timeoutMs) {
      const request = toBinary(method.input, create(method.input, input));
      return new Promise((resolve, reject) => {
        const messages: MessageShape<typeof method.output>[] = [];
        const handle = start(pathOf(method), method.name, request, method.output, timeoutMs, {
          onHeader() {},
          onMessage(message) {
            messages.push(message);
            handle.read();
          },
          onEnd(error) {
            if (error) reject(error);
            else resolve(messages);
          },
        });
        handle.read();
      });
    },

    close() {
      closed = true;
      for (const call of open) call.cancelWithStatus(grpc.status.CANCELLED, "the rio client was closed");
      open.clear();
      channel.close();
    },
  };
}
