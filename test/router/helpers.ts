import autobahn from "autobahn";
import { WebSocket } from "ws";
import { createRouter, type Router, type RouterOptions } from "../../src/router/index.js";
import { allSerializers, type Serializer, type SerializerName } from "../../src/router/serializers/index.js";

export const serializerNames: SerializerName[] = ["json", "msgpack", "cbor"];

export async function startRouter(options: RouterOptions = {}): Promise<{ router: Router; url: string }> {
  const router = createRouter({ pingIntervalMs: 0, ...options });
  const { url } = await router.listen({ port: 0 });
  return { router, url };
}

// autobahn 22 typings predate these serializer classes.
const ab = autobahn as unknown as typeof autobahn & {
  serializer: Record<string, new () => unknown>;
};

function abSerializer(name: SerializerName): unknown {
  if (name === "json") return new ab.serializer.JSONSerializer!();
  if (name === "msgpack") return new ab.serializer.MsgpackSerializer!();
  return new ab.serializer.CBORSerializer!();
}

export interface AbConnectOptions {
  readonly serializer: SerializerName;
  readonly realm?: string;
  readonly authmethods?: string[];
  readonly authid?: string;
  readonly authextra?: Record<string, unknown>;
  readonly onchallenge?: (session: autobahn.Session, method: string, extra: Record<string, unknown>) => string;
}

export interface AbClient {
  readonly session: autobahn.Session;
  readonly connection: autobahn.Connection;
  readonly details: Record<string, unknown>;
  close(): Promise<void>;
}

/** Opens an autobahn-js session; rejects with `{ reason, message }` if the router refuses it. */
export function connectAb(url: string, options: AbConnectOptions): Promise<AbClient> {
  return new Promise((resolve, reject) => {
    let opened = false;
    const connection = new autobahn.Connection({
      url,
      realm: options.realm ?? "fediversity",
      max_retries: 0,
      retry_if_unreachable: false,
      serializers: [abSerializer(options.serializer)],
      ...(options.authmethods ? { authmethods: options.authmethods } : {}),
      ...(options.authid ? { authid: options.authid } : {}),
      ...(options.authextra ? { authextra: options.authextra } : {}),
      ...(options.onchallenge ? { onchallenge: options.onchallenge } : {}),
    } as autobahn.IConnectionOptions);
    let closed: (() => void) | undefined;
    connection.onopen = (session, details) => {
      opened = true;
      resolve({
        session,
        connection,
        details: details as Record<string, unknown>,
        close: () =>
          new Promise<void>((r) => {
            closed = r;
            if (!connection.isOpen) r();
            else connection.close();
          }),
      });
    };
    connection.onclose = (reason, details) => {
      if (!opened) reject(Object.assign(new Error(`${reason}: ${String((details as { message?: string }).message)}`), { reason, details }));
      closed?.();
      return true;
    };
    connection.open();
  });
}

/** A raw WAMP peer over `ws` for protocol-level tests (and the benchmark clients). */
export class RawClient {
  readonly messages: unknown[][] = [];
  private waiters: { pred: (m: unknown[]) => boolean; resolve: (m: unknown[]) => void }[] = [];
  closeInfo: { code: number; reason: string } | undefined;
  private closeWaiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly serializer: Serializer,
  ) {
    ws.on("message", (data: Buffer) => {
      const msg = serializer.decode(data) as unknown[];
      const waiter = this.waiters.find((w) => w.pred(msg));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(msg);
      } else this.messages.push(msg);
    });
    ws.on("close", (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w();
    });
  }

  static open(url: string, serializer: SerializerName | string = "json"): Promise<RawClient> {
    const s = allSerializers.find((x) => x.name === serializer);
    const protocol = s?.protocol ?? serializer;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, [protocol]);
      const client = new RawClient(ws, s ?? allSerializers[0]!);
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  /** HELLO with anonymous or ticket auth; resolves with WELCOME (or ABORT) message. */
  async join(options: { realm?: string; roles?: Record<string, unknown>; authmethods?: string[]; authid?: string; ticket?: string } = {}): Promise<unknown[]> {
    const roles = options.roles ?? {
      caller: { features: { progressive_call_results: true, call_canceling: true } },
      callee: { features: { progressive_call_results: true, call_canceling: true } },
      publisher: { features: {} },
      subscriber: { features: {} },
    };
    const details: Record<string, unknown> = { roles, authmethods: options.authmethods ?? (options.ticket ? ["ticket"] : ["anonymous"]) };
    if (options.authid) details.authid = options.authid;
    this.send([1, options.realm ?? "fediversity", details]);
    let reply = await this.next((m) => m[0] === 2 || m[0] === 3 || m[0] === 4);
    if (reply[0] === 4) {
      this.send([5, options.ticket ?? "", {}]);
      reply = await this.next((m) => m[0] === 2 || m[0] === 3);
    }
    return reply;
  }

  send(message: unknown[]): void {
    this.ws.send(this.serializer.encode(message));
  }

  sendRaw(data: string | Buffer, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  next(pred: (m: unknown[]) => boolean = () => true, timeoutMs = 5000): Promise<unknown[]> {
    const i = this.messages.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; have ${JSON.stringify(this.messages)}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("connection not closed")), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.closeInfo!);
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
