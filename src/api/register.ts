/**
 * Binds the API to an autobahn-js session: registers every `fediversity.*` procedure (exact match,
 * `disclose_caller: true`), identifies each caller, maps every failure to `fediversity.error.*`.
 */
import { setMaxListeners } from "node:events";
import autobahn from "autobahn";
import type { DeploymentService } from "../service/port.js";
import { identifyCaller, type DisclosedCaller, type SessionInfo, type SessionLookup } from "./caller.js";
import { apiProcedures, type FollowGauge, type ProcedureLimits, type ProcedureSpec } from "./procedures.js";
import { toWampError } from "./wamp-errors.js";
import { authorize, type AuthorizeOptions } from "./authorize.js";

/** The small logger surface used here (pino fits). */
export interface ApiLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RegisterApiOptions extends ProcedureLimits {
  /**
   * How to learn a caller's authextra (its tenant). Default: the router's meta procedure
   * `wamp.session.get`, cached per session and forgotten on `wamp.session.on_leave`. The embedded
   * router can pass a direct in-process lookup instead.
   */
  readonly lookupSession?: SessionLookup;
  readonly logger?: ApiLogger;
  /** How long a looked-up session stays cached when no on_leave meta event arrives (default 5 min). */
  readonly sessionCacheMs?: number;
  /** Counts `build.logs` follow calls in progress. */
  readonly follows?: FollowGauge;
}

export interface ApiHandle {
  /** Registration ids by procedure URI. */
  readonly registrations: ReadonlyMap<string, number>;
  /** Unregisters every procedure and stops running follow calls. */
  close(): Promise<void>;
}

interface CachedSession {
  readonly info: SessionInfo | null;
  readonly expires: number;
}

/** Reads a session id out of an on_leave event: Crossbar sends `[session, authid, authrole]`. */
function leavingSession(args: unknown): number | null {
  if (!Array.isArray(args)) return null;
  const first: unknown = args[0];
  if (typeof first === "number") return first;
  if (typeof first === "object" && first !== null && typeof (first as { session?: unknown }).session === "number") {
    return (first as { session: number }).session;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function registerApi(
  session: autobahn.Session,
  service: DeploymentService,
  options: RegisterApiOptions = {},
): Promise<ApiHandle> {
  const logger = options.logger;
  const cache = new Map<number, CachedSession>();
  const cacheMs = options.sessionCacheMs ?? 5 * 60 * 1000;
  const followers = new Map<number | null, Set<AbortController>>();
  const closing = new AbortController();
  // Every call in flight listens for the API closing; hundreds at once is normal, not a leak.
  setMaxListeners(0, closing.signal);

  const metaLookup: SessionLookup = async (id) => {
    try {
      const info: unknown = await session.call("wamp.session.get", [id]);
      return isRecord(info) ? (info as SessionInfo) : null;
    } catch (err) {
      logger?.warn({ err, session: id }, "wamp.session.get failed");
      return null;
    }
  };
  const baseLookup = options.lookupSession ?? metaLookup;
  const lookup: SessionLookup = async (id) => {
    const now = Date.now();
    const hit = cache.get(id);
    if (hit && hit.expires > now) return hit.info;
    const info = await baseLookup(id);
    if (info) {
      if (cache.size >= 10_000) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(id, { info, expires: now + cacheMs });
    }
    return info;
  };

  let leaveSubscription: autobahn.ISubscription | null = null;
  try {
    leaveSubscription = await session.subscribe("wamp.session.on_leave", (args) => {
      const id = leavingSession(args);
      if (id === null) return;
      cache.delete(id);
      for (const controller of followers.get(id) ?? []) controller.abort();
      followers.delete(id);
    });
  } catch (err) {
    logger?.warn({ err }, "cannot subscribe to wamp.session.on_leave; follow calls end only with their sync");
  }

  const bind = (spec: ProcedureSpec) => async (args?: unknown[], kwargs?: unknown, details?: autobahn.IInvocation) => {
    const disclosed = details as (autobahn.IInvocation & DisclosedCaller) | undefined;
    const controller = new AbortController();
    const key = typeof disclosed?.caller === "number" ? disclosed.caller : null;
    const onClose = () => controller.abort();
    closing.signal.addEventListener("abort", onClose, { once: true });
    let set = followers.get(key);
    if (!set) followers.set(key, (set = new Set()));
    set.add(controller);
    try {
      const caller = await identifyCaller(disclosed, lookup);
      const sendProgress = disclosed?.progress;
      const progress = sendProgress ? (result: unknown) => sendProgress([result], {}) : null;
      return await spec.handle(
        { service, caller, limits: options, progress, signal: controller.signal, ...(options.follows ? { follows: options.follows } : {}) },
        args,
        kwargs,
      );
    } catch (err) {
      const payload = toWampError(err, (original, incident) =>
        logger?.error({ err: original, incident, procedure: spec.uri }, "procedure failed"),
      );
      throw new autobahn.Error(payload.uri, payload.args, payload.kwargs);
    } finally {
      closing.signal.removeEventListener("abort", onClose);
      set.delete(controller);
      if (set.size === 0) followers.delete(key);
    }
  };

  const registered: autobahn.IRegistration[] = [];
  try {
    for (const spec of apiProcedures) {
      registered.push(await session.register(spec.uri, bind(spec), { disclose_caller: true }));
    }
  } catch (err) {
    await Promise.allSettled(registered.map((r) => session.unregister(r)));
    if (leaveSubscription) await Promise.allSettled([session.unsubscribe(leaveSubscription)]);
    throw err;
  }

  return {
    registrations: new Map(registered.map((r) => [r.procedure, r.id])),
    async close() {
      closing.abort();
      const pending: PromiseLike<unknown>[] = registered.filter((r) => r.active).map((r) => session.unregister(r));
      if (leaveSubscription?.active) pending.push(session.unsubscribe(leaveSubscription));
      await Promise.allSettled(pending);
    },
  };
}

/**
 * Registers `authorize` as a WAMP procedure (`authorize(session, uri, action, options)`), the
 * dynamic authorizer Crossbar.io calls per role. Returns the registration.
 */
export async function registerAuthorizer(
  session: autobahn.Session,
  uri: string,
  config: AuthorizeOptions = {},
): Promise<autobahn.IRegistration> {
  return session.register(uri, (args?: unknown[]) => {
    const [who, target, action, opts] = args ?? [];
    if (!isRecord(who) || typeof target !== "string" || typeof action !== "string") {
      return { allow: false, disclose: false, cache: false };
    }
    return authorize(who, target, action, isRecord(opts) ? opts : null, config);
  });
}
