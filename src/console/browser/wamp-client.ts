/**
 * The console's own WAMP session, opened in the browser with autobahn-browser, and the few
 * operations the pages need: calls that resolve to `args[0]`, cancellable progressive calls, and
 * subscriptions that are made again after a reconnect. Errors become ConsoleErrors with the
 * contract's code (`fediversity.error.not_found` → `not_found`).
 */
import autobahn, { type PendingCall, type Session, type Subscription } from "autobahn-browser";
import type { Principal, Role } from "./api-types.js";

export interface Credentials {
  readonly authid: string;
  /** A ticket, or a WAMP-CRA secret. */
  readonly secret: string;
  readonly method: "ticket" | "wampcra";
}

export interface ProblemDetail {
  readonly path: string;
  readonly message: string;
}

/** A failed call or connection, with the contract's error code when it has one. */
export class ConsoleError extends Error {
  override readonly name = "ConsoleError";
  constructor(
    readonly code: string,
    message: string,
    readonly uri: string | null = null,
    readonly details: readonly ProblemDetail[] = [],
  ) {
    super(message);
  }
}

export interface FollowHandle {
  /** Settles when the call ends: the final result, or null when it was cancelled. */
  readonly done: Promise<unknown>;
  cancel(): void;
}

export interface LiveSubscription {
  close(): void;
}

export interface ConnectionEvents {
  /** The connection dropped; autobahn is retrying. */
  onLost(): void;
  /** A new session after a drop: subscriptions are already made again. */
  onRestored(): void;
  /** Gave up, or the router ended the session for good. */
  onClosed(message: string): void;
}

export interface WampClient {
  readonly principal: Principal;
  call<T>(procedure: string, kwargs?: Record<string, unknown>): Promise<T>;
  follow<T>(procedure: string, kwargs: Record<string, unknown>, onProgress: (result: T) => void): FollowHandle;
  subscribe(topic: string, match: "exact" | "prefix", handler: (payload: unknown) => void): Promise<LiveSubscription>;
  close(): void;
}

const knownRoles: readonly Role[] = ["tenant", "panel", "operator"];

function firstArg(value: unknown): unknown {
  if (value && typeof value === "object" && Array.isArray((value as { args?: unknown }).args) && "kwargs" in value) {
    return (value as unknown as { args: unknown[] }).args[0];
  }
  return value;
}

/** Turns what autobahn rejected with into a ConsoleError. */
export function toConsoleError(err: unknown): ConsoleError {
  if (err instanceof ConsoleError) return err;
  const e = err as { error?: unknown; args?: unknown[]; kwargs?: Record<string, unknown> } | null;
  if (e && typeof e.error === "string") {
    const uri = e.error;
    const code = uri.startsWith("fediversity.error.") ? uri.slice("fediversity.error.".length) : uri;
    const message = typeof e.kwargs?.["message"] === "string" ? e.kwargs["message"] : typeof e.args?.[0] === "string" ? e.args[0] : uri;
    const details = Array.isArray(e.kwargs?.["details"]) ? (e.kwargs["details"] as ProblemDetail[]) : [];
    return new ConsoleError(code, message, uri, details);
  }
  return new ConsoleError("internal", err instanceof Error ? err.message : String(err));
}

export function webSocketUrl(location: Location): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
}

export function connect(url: string, credentials: Credentials, events: ConnectionEvents): Promise<WampClient> {
  autobahn.log.debug = () => {};
  autobahn.log.warn = () => {};
  return new Promise((resolve, reject) => {
    let session: Session | null = null;
    let opened = false;
    let closedByUs = false;
    const subscriptions = new Set<{ topic: string; match: string; handler: (p: unknown) => void; current: Subscription | null; closed: boolean }>();

    const connection = new autobahn.Connection({
      url,
      realm: "fediversity",
      authmethods: [credentials.method],
      authid: credentials.authid,
      onchallenge: (_s, method, extra) => {
        if (method === "ticket") return credentials.secret;
        const salt = typeof extra["salt"] === "string" ? extra["salt"] : null;
        const key = salt
          ? autobahn.auth_cra.derive_key(credentials.secret, salt, Number(extra["iterations"] ?? 1000), Number(extra["keylen"] ?? 32))
          : credentials.secret;
        return autobahn.auth_cra.sign(key, String(extra["challenge"]));
      },
      // The first connection is not retried (a wrong ticket should say so at once); later drops are.
      retry_if_unreachable: false,
      max_retries: 30,
      initial_retry_delay: 0.5,
      max_retry_delay: 5,
      retry_delay_growth: 1.5,
      on_user_error: () => {},
      on_internal_error: () => {},
    });

    const client: WampClient = {
      principal: { authid: credentials.authid, role: "tenant", tenant: null },
      async call<T>(procedure: string, kwargs: Record<string, unknown> = {}) {
        if (!session) throw new ConsoleError("unavailable", "Not connected to the service; reconnecting.");
        try {
          return firstArg(await session.call(procedure, [], kwargs)) as T;
        } catch (err) {
          throw toConsoleError(err);
        }
      },
      follow<T>(procedure: string, kwargs: Record<string, unknown>, onProgress: (result: T) => void): FollowHandle {
        if (!session) {
          return { done: Promise.reject(new ConsoleError("unavailable", "Not connected to the service.")), cancel: () => {} };
        }
        let cancelled = false;
        const pending: PendingCall = session.call(procedure, [], kwargs, { receive_progress: true });
        const done = new Promise<unknown>((res, rej) => {
          pending.then(
            (v) => res(cancelled ? null : firstArg(v)),
            (err) => (cancelled ? res(null) : rej(toConsoleError(err))),
            (update) => {
              if (!cancelled) onProgress(firstArg(update) as T);
            },
          );
        });
        return {
          done,
          cancel() {
            if (cancelled) return;
            cancelled = true;
            // autobahn-js 22 handles only `kill` cleanly (the README of the service says why).
            try {
              pending.cancel({ mode: "kill" });
            } catch {
              // The call had already ended.
            }
          },
        };
      },
      async subscribe(topic, match, handler) {
        const entry = { topic, match, handler, current: null as Subscription | null, closed: false };
        subscriptions.add(entry);
        if (session) entry.current = await subscribeOne(session, entry);
        return {
          close() {
            entry.closed = true;
            subscriptions.delete(entry);
            if (entry.current && session?.isOpen) void Promise.resolve(session.unsubscribe(entry.current)).catch(() => undefined);
          },
        };
      },
      close() {
        closedByUs = true;
        connection.close();
      },
    };

    async function subscribeOne(s: Session, entry: { topic: string; match: string; handler: (p: unknown) => void }): Promise<Subscription> {
      try {
        return await s.subscribe(entry.topic, (args) => entry.handler(Array.isArray(args) ? args[0] : undefined), { match: entry.match });
      } catch (err) {
        throw toConsoleError(err);
      }
    }

    connection.onopen = (s, details) => {
      session = s;
      if (!opened) {
        opened = true;
        const role = String(details["authrole"] ?? "");
        const extra = (details["authextra"] ?? {}) as Record<string, unknown>;
        if (!(knownRoles as readonly string[]).includes(role)) {
          closedByUs = true;
          connection.close();
          reject(new ConsoleError("not_authorized", `Signed in, but role “${role}” may not use the deployment API.`));
          return;
        }
        (client as { principal: Principal }).principal = {
          authid: String(details["authid"] ?? credentials.authid),
          role: role as Role,
          tenant: typeof extra["tenant"] === "string" ? extra["tenant"] : null,
        };
        resolve(client);
        return;
      }
      void (async () => {
        for (const entry of subscriptions) {
          if (!entry.closed) entry.current = await subscribeOne(s, entry).catch(() => null);
        }
        events.onRestored();
      })();
    };

    connection.onclose = (reason, details) => {
      session = null;
      const willRetry = details["will_retry"] === true;
      const why = typeof details["reason"] === "string" ? details["reason"] : reason;
      if (!opened) {
        reject(
          /authentication_failed|not_authorized|no_such_principal|no_such_role|no_auth_method|authorization_failed/.test(why)
            ? new ConsoleError("not_authorized", "Sign-in failed: the service did not accept this authid and ticket (or secret).", why)
            : new ConsoleError("unavailable", "Could not reach the service's WAMP endpoint. Is the service running?", why),
        );
        return true;
      }
      if (closedByUs) return true;
      if (willRetry) events.onLost();
      else events.onClosed(why === "wamp.close.system_shutdown" ? "The service shut down." : "The connection to the service was closed.");
      return false;
    };

    connection.open();
  });
}
