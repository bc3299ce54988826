/**
 * A session inside the router's process, for the service that embeds it: it registers, subscribes
 * and publishes like a WebSocket client of role `trusted`, without encoding anything. As a callee
 * it announces and honours call canceling: an interrupted invocation's `details.signal` aborts at
 * once and its `progress` refuses further results, so the router may pass it `receive_progress`.
 *
 * Shaped like the part of autobahn-js's Session that the API uses (register, unregister,
 * subscribe, unsubscribe, publish, call), with the same endpoint arguments and results.
 */
import { AppError, type AppErrorCode } from "../../errors.js";
import { carriedWampError, ErrorUri, type WampErrorReply } from "../errors.js";
import { isValidUri, type MatchPolicy, type UriCheck } from "../ids.js";
import { MessageType, type WampDict, type WampList } from "../messages.js";
import type { Peer } from "../peer.js";
import type { Realm } from "../realm/realm.js";

export interface LocalInvocationDetails {
  /** The procedure called (for a pattern registration, the URI the caller used). */
  readonly procedure: string;
  /** The caller, when disclosed (disclose_caller, disclose_me, or the authorizer). */
  readonly caller?: number;
  readonly caller_authid?: string;
  readonly caller_authrole?: string;
  /** Only when the caller asked for progressive results; throws AppError `cancelled` once interrupted. */
  readonly progress?: (args?: WampList, kwargs?: WampDict) => void;
  /** Aborted (reason: AppError `cancelled`) when the router interrupts the call: cancel, caller gone, timeout. */
  readonly signal: AbortSignal;
}

/**
 * A procedure: its return value is the call's single result (undefined: none). To fail with a
 * WAMP error, throw an error carrying the URI in `error` with `args`/`kwargs` (autobahn's `Error`);
 * anything else fails with `wamp.error.runtime_error` and its message.
 */
export type LocalEndpoint = (args: WampList, kwargs: WampDict, details: LocalInvocationDetails) => unknown;

export type LocalEventHandler = (args: WampList, kwargs: WampDict, details: WampDict) => void;

export interface LocalRegistration {
  readonly id: number;
  readonly procedure: string;
  active: boolean;
}

export interface LocalSubscription {
  readonly id: number;
  readonly topic: string;
  active: boolean;
}

export interface LocalSession {
  readonly id: number;
  register(procedure: string, endpoint: LocalEndpoint, options?: { readonly match?: MatchPolicy; readonly disclose_caller?: boolean }): Promise<LocalRegistration>;
  unregister(registration: LocalRegistration): Promise<void>;
  subscribe(topic: string, handler: LocalEventHandler, options?: { readonly match?: MatchPolicy }): Promise<LocalSubscription>;
  unsubscribe(subscription: LocalSubscription): Promise<void>;
  /**
   * Resolves like autobahn-js: a single positional result as itself, otherwise `{ args, kwargs }`;
   * rejects with an AppError whose message starts with the error URI.
   */
  call(procedure: string, args?: WampList, kwargs?: WampDict, options?: { readonly timeout?: number }): Promise<unknown>;
  /** Resolves with the publication id when `acknowledge` is set; otherwise returns nothing. */
  publish(topic: string, args?: WampList, kwargs?: WampDict, options?: { readonly acknowledge?: boolean; readonly exclude_me?: boolean }): Promise<{ id: number }> | undefined;
  /** Leaves the realm: registrations and subscriptions go, running invocations are aborted. */
  close(): void;
}

export interface LocalSessionOptions {
  readonly session: number;
  readonly authid: string;
  readonly uriCheck: UriCheck;
}

const localRoles: WampDict = {
  caller: { features: { caller_identification: true, progressive_call_results: true, call_canceling: true } },
  callee: { features: { caller_identification: true, progressive_call_results: true, call_canceling: true, pattern_based_registration: true } },
  publisher: { features: { publisher_exclusion: true, subscriber_blackwhite_listing: true } },
  subscriber: { features: { pattern_based_subscription: true } },
};

const canceled = (): AppError => new AppError("cancelled", "the call was canceled");

/** AppError codes for the WAMP errors the router answers a local request with. */
const codeFor = (uri: string): AppErrorCode => {
  switch (uri) {
    case ErrorUri.procedureAlreadyExists:
      return "conflict";
    case ErrorUri.noSuchRegistration:
    case ErrorUri.noSuchSubscription:
      return "not_found";
    case ErrorUri.invalidUri:
    case ErrorUri.invalidArgument:
      return "invalid_argument";
    case ErrorUri.notAuthorized:
      return "not_authorized";
    default:
      return "internal";
  }
};

function replyFor(err: unknown): WampErrorReply {
  const carried = carriedWampError(err);
  if (carried !== undefined) return carried;
  return { uri: ErrorUri.runtimeError, args: [err instanceof Error ? err.message : String(err)] };
}

export function openLocalSession(realm: Realm, options: LocalSessionOptions): LocalSession {
  let open = true;
  let lastRequestId = 0;
  /** Replies to this session's own requests (synchronous, except a call's result). */
  const replies = new Map<number, (message: unknown[]) => void>();
  const endpoints = new Map<number, LocalRegistration & { readonly endpoint: LocalEndpoint }>();
  const handlers = new Map<number, LocalEventHandler>();
  const running = new Map<number, AbortController>();

  const peer: Peer = {
    session: options.session,
    realm: realm.name,
    authid: options.authid,
    authrole: "trusted",
    authmethod: "internal",
    authprovider: "router",
    authextra: {},
    transport: { type: "internal", protocol: "internal", peer: "internal" },
    roles: localRoles,
    send(message) {
      receive(message);
      return true;
    },
    sendShared: (shared) => receive(shared.message),
    isOpen: () => open,
  };

  function receive(message: unknown[]): void {
    switch (message[0]) {
      case MessageType.INVOCATION:
        queueMicrotask(() => invoke(message));
        return;
      case MessageType.INTERRUPT:
        interrupt(message[1] as number, message[2] as WampDict);
        return;
      case MessageType.EVENT: {
        const handler = handlers.get(message[1] as number);
        if (handler !== undefined) queueMicrotask(() => handler((message[4] as WampList | undefined) ?? [], (message[5] as WampDict | undefined) ?? {}, message[3] as WampDict));
        return;
      }
      default: {
        const requestId = (message[0] === MessageType.ERROR ? message[2] : message[1]) as number;
        const reply = replies.get(requestId);
        replies.delete(requestId);
        reply?.(message);
      }
    }
  }

  /** Sends one request through `act` and turns the realm's synchronous answer into a promise. */
  function request<T>(act: (requestId: number) => void, answer: (message: unknown[]) => T): Promise<T> {
    if (!open) return Promise.reject(new AppError("unavailable", "the local session is closed"));
    const requestId = ++lastRequestId;
    return new Promise<T>((resolve, reject) => {
      replies.set(requestId, (message) => {
        if (message[0] !== MessageType.ERROR) return resolve(answer(message));
        const uri = message[4] as string;
        const args = (message[5] as WampList | undefined) ?? [];
        reject(new AppError(codeFor(uri), `${uri}: ${String(args[0] ?? "")}`));
      });
      act(requestId);
    });
  }

  function invoke(message: unknown[]): void {
    const [, invocationId, registrationId, details, args, kwargs] = message as [number, number, number, WampDict, WampList?, WampDict?];
    const registration = endpoints.get(registrationId);
    if (registration === undefined || !open) {
      realm.dealer.calleeError(peer, invocationId, {}, ErrorUri.noSuchProcedure, ["no longer registered"], undefined);
      return;
    }
    const controller = new AbortController();
    running.set(invocationId, controller);
    const invocation: LocalInvocationDetails = {
      procedure: typeof details.procedure === "string" ? details.procedure : registration.procedure,
      ...(typeof details.caller === "number" ? { caller: details.caller, caller_authid: details.caller_authid as string, caller_authrole: details.caller_authrole as string } : {}),
      ...(details.receive_progress === true ? { progress: progressOf(invocationId) } : {}),
      signal: controller.signal,
    };
    // A late answer (after an interrupt) is dropped here, as the router would drop it anyway.
    new Promise((resolve) => resolve(registration.endpoint(args ?? [], kwargs ?? {}, invocation))).then(
      (value) => {
        if (running.delete(invocationId)) realm.dealer.yieldResult(peer, invocationId, {}, value === undefined ? [] : [value], undefined);
      },
      (err: unknown) => {
        if (!running.delete(invocationId)) return;
        const reply = replyFor(err);
        realm.dealer.calleeError(peer, invocationId, {}, reply.uri, reply.args, reply.kwargs);
      },
    );
  }

  function progressOf(invocationId: number): (args?: WampList, kwargs?: WampDict) => void {
    return (args, kwargs) => {
      if (!running.has(invocationId)) throw canceled();
      realm.dealer.yieldResult(peer, invocationId, { progress: true }, args, kwargs);
    };
  }

  function interrupt(invocationId: number, details: WampDict): void {
    const controller = running.get(invocationId);
    if (controller === undefined) return;
    running.delete(invocationId);
    controller.abort(canceled());
    // With `kill` the router waits for the callee's answer: give it now, the endpoint has been told.
    if (details.mode === "kill") queueMicrotask(() => realm.dealer.calleeError(peer, invocationId, {}, ErrorUri.canceled, ["call canceled"], undefined));
  }

  const checkUri = (uri: string, match: MatchPolicy): void => {
    if (!isValidUri(uri, options.uriCheck, match)) throw new AppError("invalid_argument", `invalid URI '${uri}'`);
  };

  realm.join(peer);

  return {
    id: options.session,
    async register(procedure, endpoint, registerOptions = {}) {
      const match = registerOptions.match ?? "exact";
      checkUri(procedure, match);
      return request(
        (requestId) => realm.dealer.register(peer, requestId, procedure, match, registerOptions.disclose_caller === true),
        (message) => {
          const registration = { id: message[2] as number, procedure, active: true, endpoint };
          endpoints.set(registration.id, registration);
          return registration;
        },
      );
    },
    async unregister(registration) {
      await request(
        (requestId) => realm.dealer.unregister(peer, requestId, registration.id),
        () => undefined,
      );
      endpoints.delete(registration.id);
      registration.active = false;
    },
    async subscribe(topic, handler, subscribeOptions = {}) {
      const match = subscribeOptions.match ?? "exact";
      checkUri(topic, match);
      return request(
        (requestId) => realm.broker.subscribe(peer, requestId, topic, match),
        (message) => {
          handlers.set(message[2] as number, handler);
          return { id: message[2] as number, topic, active: true };
        },
      );
    },
    async unsubscribe(subscription) {
      await request(
        (requestId) => realm.broker.unsubscribe(peer, requestId, subscription.id),
        () => undefined,
      );
      handlers.delete(subscription.id);
      subscription.active = false;
    },
    async call(procedure, args, kwargs, callOptions = {}) {
      checkUri(procedure, "exact");
      return request(
        (requestId) => void realm.dealer.call(peer, { requestId, procedure, options: { ...callOptions }, args, kwargs, disclose: true }),
        (message) => {
          const resultArgs = (message[3] as WampList | undefined) ?? [];
          const resultKwargs = (message[4] as WampDict | undefined) ?? {};
          return resultArgs.length === 1 && Object.keys(resultKwargs).length === 0 ? resultArgs[0] : { args: resultArgs, kwargs: resultKwargs };
        },
      );
    },
    publish(topic, args, kwargs, publishOptions = {}) {
      let published: { id: number } | AppError;
      if (!open) published = new AppError("unavailable", "the local session is closed");
      else if (!isValidUri(topic, options.uriCheck)) published = new AppError("invalid_argument", `invalid URI '${topic}'`);
      else published = { id: realm.broker.publish(peer, { topic, options: { ...publishOptions }, args, kwargs, disclose: true }) };
      // Like a WebSocket client's publication: only an acknowledged one hears of a failure.
      if (publishOptions.acknowledge !== true) return undefined;
      return published instanceof AppError ? Promise.reject(published) : Promise.resolve(published);
    },
    close() {
      if (!open) return;
      open = false;
      for (const controller of running.values()) controller.abort(canceled());
      running.clear();
      realm.leave(peer);
    },
  };
}
