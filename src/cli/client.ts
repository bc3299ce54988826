/**
 * The CLI's WAMP client: an autobahn-js connection with ticket (or anonymous) auth, calls with
 * keyword arguments that resolve to `args[0]`, errors turned back into AppError.
 */
import autobahn from "autobahn";
import { AppError } from "../errors.js";
import { fromWampError } from "../api/wamp-errors.js";

export interface ClientOptions {
  readonly url: string;
  readonly realm: string;
  readonly authid: string | undefined;
  readonly ticket: string | undefined;
  /** Reconnect after a lost connection (watch); one-shot commands fail fast instead. */
  readonly reconnect: boolean;
  /** Seconds to wait for the first session before giving up. */
  readonly connectTimeoutSecs?: number;
}

export interface Client {
  /** Calls `uri` with keyword arguments; resolves to `args[0]`. */
  call<T>(uri: string, kwargs: Record<string, unknown>): Promise<T>;
  /** Like `call`, with progressive results delivered to `onProgress` (each `args[0]`). */
  callWithProgress<T>(uri: string, kwargs: Record<string, unknown>, onProgress: (result: unknown) => void): Promise<T>;
  /** Subscribes (again after every reconnect); `handler` gets each event's `args[0]`. */
  subscribe(topic: string, handler: (payload: unknown) => void, match?: "exact" | "prefix"): Promise<void>;
  /** Runs `hook` after every reconnect (not after the first connect). */
  onReconnect(hook: () => void): void;
  /** Rejects when the connection is gone for good. */
  readonly lost: Promise<never>;
  close(): void;
}

/** Strips undefined values so they never travel as `null`. */
export function compactKwargs(kwargs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kwargs).filter(([, v]) => v !== undefined));
}

function firstArg(result: unknown): unknown {
  // autobahn-js resolves a single-argument result to the argument itself, else to a Result.
  if (result instanceof autobahn.Result) return result.args[0];
  return result;
}

function closeError(reason: string, details: { reason?: string | null; message?: string | null } | undefined): AppError {
  const uri = details?.reason ?? "";
  const message = details?.message ? `: ${details.message}` : "";
  if (/not_authorized|authentication_failed|authorization_failed/.test(uri)) {
    return new AppError("not_authorized", `authentication failed (${uri})${message}`);
  }
  if (/no_such_realm/.test(uri)) return new AppError("not_found", `no such realm (${uri})${message}`);
  return new AppError("unavailable", `connection ${reason}${uri ? ` (${uri})` : ""}${message}`);
}

export function connect(options: ClientOptions): Promise<Client> {
  return new Promise<Client>((resolve, reject) => {
    let session: autobahn.Session | null = null;
    let opened = false;
    let closedByUs = false;
    const subscriptions: { topic: string; handler: (payload: unknown) => void; match: string }[] = [];
    const reconnectHooks: (() => void)[] = [];
    let rejectLost: (err: AppError) => void = () => {};
    const lost = new Promise<never>((_, rej) => {
      rejectLost = rej;
    });
    lost.catch(() => {});

    const connection = new autobahn.Connection({
      url: options.url,
      realm: options.realm,
      authmethods: options.ticket !== undefined ? ["ticket"] : ["anonymous"],
      ...(options.authid !== undefined ? { authid: options.authid } : {}),
      onchallenge: (_session, method) => {
        if (method === "ticket" && options.ticket !== undefined) return options.ticket;
        throw new AppError("not_authorized", `the router asks for authentication method ${method}; only ticket is configured`);
      },
      max_retries: options.reconnect ? -1 : 0,
      retry_if_unreachable: options.reconnect,
      initial_retry_delay: 0.5,
      max_retry_delay: 10,
      on_user_error: () => {},
      on_internal_error: () => {},
    });

    const timer = setTimeout(
      () => {
        if (!opened) {
          closedByUs = true;
          try {
            connection.close();
          } catch {
            // already closed
          }
          reject(new AppError("unavailable", `could not connect to ${options.url} within ${options.connectTimeoutSecs ?? 10}s`));
        }
      },
      (options.connectTimeoutSecs ?? 10) * 1000,
    );

    const requireSession = (): autobahn.Session => {
      if (!session) throw new AppError("unavailable", "not connected");
      return session;
    };

    const subscribeOn = (s: autobahn.Session, sub: (typeof subscriptions)[number]) =>
      s.subscribe(sub.topic, (args) => sub.handler(Array.isArray(args) ? args[0] : undefined), { match: sub.match });

    const client: Client = {
      async call<T>(uri: string, kwargs: Record<string, unknown>): Promise<T> {
        try {
          return firstArg(await requireSession().call(uri, [], compactKwargs(kwargs))) as T;
        } catch (err) {
          throw fromWampError(err);
        }
      },
      callWithProgress<T>(uri: string, kwargs: Record<string, unknown>, onProgress: (result: unknown) => void): Promise<T> {
        return new Promise<T>((res, rej) => {
          let s: autobahn.Session;
          try {
            s = requireSession();
          } catch (err) {
            rej(err);
            return;
          }
          const promise = s.call(uri, [], compactKwargs(kwargs), { receive_progress: true }) as unknown as {
            then(ok: (r: unknown) => void, fail: (e: unknown) => void, progress: (p: unknown) => void): void;
          };
          promise.then(
            (r) => res(firstArg(r) as T),
            (e) => rej(fromWampError(e)),
            (p) => onProgress(firstArg(p)),
          );
        });
      },
      async subscribe(topic, handler, match = "exact") {
        const sub = { topic, handler, match };
        subscriptions.push(sub);
        try {
          await subscribeOn(requireSession(), sub);
        } catch (err) {
          throw fromWampError(err);
        }
      },
      onReconnect(hook) {
        reconnectHooks.push(hook);
      },
      lost,
      close() {
        closedByUs = true;
        try {
          connection.close();
        } catch {
          // already closed
        }
      },
    };

    connection.onopen = (s) => {
      session = s;
      if (!opened) {
        opened = true;
        clearTimeout(timer);
        resolve(client);
        return;
      }
      void Promise.all(subscriptions.map((sub) => subscribeOn(s, sub))).then(
        () => reconnectHooks.forEach((hook) => hook()),
        (err: unknown) => rejectLost(fromWampError(err)),
      );
    };
    connection.onclose = (reason, details) => {
      session = null;
      const err = closeError(reason, details as { reason?: string; message?: string });
      const willRetry = (details as { will_retry?: boolean } | undefined)?.will_retry === true;
      if (!opened) {
        if (!willRetry || !options.reconnect) {
          clearTimeout(timer);
          reject(err);
          return true;
        }
        return false;
      }
      const routerRestarting = (details as { reason?: string } | undefined)?.reason === "wamp.close.system_shutdown";
      if (!closedByUs && options.reconnect && !willRetry && routerRestarting) {
        // autobahn-js stops retrying after a GOODBYE; a router shutting down will be back: open again.
        setTimeout(() => {
          if (closedByUs) return;
          try {
            connection.open();
          } catch (e) {
            rejectLost(AppError.from(e));
          }
        }, 500);
        return true;
      }
      if (closedByUs || !willRetry) {
        if (!closedByUs) rejectLost(err);
        return true;
      }
      return false;
    };
    connection.open();
  });
}
