import { ErrorUri, WampError } from "./errors.js";
import { randomId, type MatchPolicy } from "./ids.js";
import { errorMessage, MessageType, payloadTail, type WampDict, type WampList } from "./messages.js";
import { hasFeature, type Peer } from "./peer.js";
import { UriTable, type PrefixMode } from "./uri-table.js";

interface Registration {
  readonly id: number;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly callee: Peer;
}

interface PendingCall {
  readonly invocationId: number;
  readonly callee: Peer;
  readonly caller: Peer;
  readonly callerRequestId: number;
  readonly receiveProgress: boolean;
  timer: NodeJS.Timeout | undefined;
  /** `kill` was requested: the callee's ERROR or YIELD still reaches the caller. */
  killRequested: boolean;
}

export type CancelMode = "skip" | "kill" | "killnowait";

/** A router-implemented procedure (meta API); throws WampError to fail. */
export type BuiltinProcedure = (caller: Peer, args: WampList, kwargs: WampDict) => { args?: WampList; kwargs?: WampDict };

export interface DealerOptions {
  readonly realm: string;
  readonly prefixMode: PrefixMode;
  /** Applied when the caller gives no `timeout` option; 0 = none. */
  readonly defaultCallTimeoutMs: number;
}

export interface CallRequest {
  readonly requestId: number;
  readonly procedure: string;
  readonly options: WampDict;
  readonly args: WampList | undefined;
  readonly kwargs: WampDict | undefined;
  /** Reveal the caller's identity to the callee (disclose_me, authorizer or role `trusted`). */
  readonly disclose: boolean;
}

export class Dealer {
  private readonly registrations: UriTable<Registration>;
  private readonly registrationsById = new Map<number, Registration>();
  /** callee session → invocation id → call */
  private readonly byCallee = new Map<number, Map<number, PendingCall>>();
  /** caller session → call request id → call */
  private readonly byCaller = new Map<number, Map<number, PendingCall>>();
  readonly builtins = new Map<string, BuiltinProcedure>();

  constructor(private readonly options: DealerOptions) {
    this.registrations = new UriTable(options.prefixMode);
  }

  hasRegistration(procedure: string): boolean {
    return this.registrations.best(procedure) !== undefined;
  }

  register(callee: Peer, requestId: number, procedure: string, match: MatchPolicy): void {
    if (this.registrations.get(procedure, match) !== undefined || this.builtins.has(procedure)) {
      callee.send(
        errorMessage(MessageType.REGISTER, requestId, ErrorUri.procedureAlreadyExists, [
          `register for already registered procedure '${procedure}'`,
        ]),
      );
      return;
    }
    const registration: Registration = { id: randomId(), uri: procedure, match, callee };
    this.registrations.set(procedure, match, registration);
    this.registrationsById.set(registration.id, registration);
    callee.send([MessageType.REGISTERED, requestId, registration.id]);
  }

  unregister(callee: Peer, requestId: number, registrationId: number): void {
    const registration = this.registrationsById.get(registrationId);
    if (registration === undefined || registration.callee !== callee) {
      callee.send(errorMessage(MessageType.UNREGISTER, requestId, ErrorUri.noSuchRegistration));
      return;
    }
    this.removeRegistration(registration);
    callee.send([MessageType.UNREGISTERED, requestId]);
  }

  call(caller: Peer, request: CallRequest): void {
    const { requestId, procedure, options, args, kwargs } = request;
    const builtin = this.builtins.get(procedure);
    if (builtin !== undefined) {
      this.callBuiltin(caller, requestId, builtin, args, kwargs);
      return;
    }
    const registration = this.registrations.best(procedure);
    if (registration === undefined || !registration.callee.isOpen()) {
      caller.send(
        errorMessage(MessageType.CALL, requestId, ErrorUri.noSuchProcedure, [
          `no callee registered for procedure '${procedure}'`,
        ]),
      );
      return;
    }
    const callee = registration.callee;
    const invocationId = callee.nextRequestId();
    const details: WampDict = {};
    if (registration.match !== "exact") details.procedure = procedure;
    const receiveProgress =
      options.receive_progress === true && hasFeature(callee, "callee", "progressive_call_results");
    if (receiveProgress) details.receive_progress = true;
    if (request.disclose) {
      details.caller = caller.session;
      details.caller_authid = caller.authid;
      details.caller_authrole = caller.authrole;
    }
    const call: PendingCall = {
      invocationId,
      callee,
      caller,
      callerRequestId: requestId,
      receiveProgress,
      timer: undefined,
      killRequested: false,
    };
    const timeout = typeof options.timeout === "number" && options.timeout > 0 ? options.timeout : this.options.defaultCallTimeoutMs;
    if (timeout > 0) {
      call.timer = setTimeout(() => this.abandon(call, "killnowait", ErrorUri.timeout, "call timed out"), timeout);
      call.timer.unref();
    }
    mapFor(this.byCallee, callee.session).set(invocationId, call);
    mapFor(this.byCaller, caller.session).set(requestId, call);
    if (!callee.send([MessageType.INVOCATION, invocationId, registration.id, details, ...payloadTail(args, kwargs)])) {
      // The callee's serializer cannot carry these arguments: answer now rather than leave the caller waiting.
      this.finish(call);
      caller.send(errorMessage(MessageType.CALL, requestId, ErrorUri.invalidArgument, ["the call's arguments cannot be encoded for its callee"]));
    }
  }

  yieldResult(callee: Peer, invocationId: number, options: WampDict, args: WampList | undefined, kwargs: WampDict | undefined): void {
    const call = this.byCallee.get(callee.session)?.get(invocationId);
    if (call === undefined) return; // cancelled, timed out or unknown: discarded
    if (options.progress === true) {
      if (call.receiveProgress) call.caller.send([MessageType.RESULT, call.callerRequestId, { progress: true }, ...payloadTail(args, kwargs)]);
      return;
    }
    this.finish(call);
    if (!call.caller.send([MessageType.RESULT, call.callerRequestId, {}, ...payloadTail(args, kwargs)])) {
      call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, ErrorUri.invalidArgument, ["the result cannot be encoded for the caller"]));
    }
  }

  calleeError(callee: Peer, invocationId: number, details: WampDict, uri: string, args: WampList | undefined, kwargs: WampDict | undefined): void {
    const call = this.byCallee.get(callee.session)?.get(invocationId);
    if (call === undefined) return;
    this.finish(call);
    call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, uri, args, kwargs, details));
  }

  cancel(caller: Peer, requestId: number, mode: CancelMode): void {
    const call = this.byCaller.get(caller.session)?.get(requestId);
    if (call === undefined || call.killRequested) return;
    this.abandon(call, mode, ErrorUri.canceled, "call canceled by caller");
  }

  /** Removes everything a leaving session owned: registrations, and calls it made or served. */
  removePeer(peer: Peer): void {
    for (const registration of [...this.registrationsById.values()]) {
      if (registration.callee === peer) this.removeRegistration(registration);
    }
    const served = this.byCallee.get(peer.session);
    if (served !== undefined) {
      for (const call of [...served.values()]) {
        this.finish(call);
        call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, ErrorUri.canceled, ["callee disconnected"]));
      }
    }
    const made = this.byCaller.get(peer.session);
    if (made !== undefined) {
      for (const call of [...made.values()]) {
        this.finish(call);
        if (hasFeature(call.callee, "callee", "call_canceling")) {
          call.callee.send([MessageType.INTERRUPT, call.invocationId, { mode: "killnowait", reason: ErrorUri.canceled }]);
        }
      }
    }
    this.byCallee.delete(peer.session);
    this.byCaller.delete(peer.session);
  }

  /** Calls a procedure from inside the router (dynamic authenticator/authorizer). */
  callInternal(procedure: string, args: WampList, kwargs: WampDict, timeoutMs: number): Promise<{ args: WampList; kwargs: WampDict }> {
    return new Promise((resolve, reject) => {
      const caller = internalPeer(this.options.realm, (message) => {
        if (message[0] === MessageType.RESULT) {
          const details = message[2] as WampDict;
          if (details.progress === true) return;
          resolve({ args: (message[3] as WampList | undefined) ?? [], kwargs: (message[4] as WampDict | undefined) ?? {} });
        } else if (message[0] === MessageType.ERROR) {
          reject(new WampError(message[4] as string, (message[5] as WampList | undefined) ?? [], (message[6] as WampDict | undefined) ?? {}));
        }
      });
      this.call(caller, { requestId: 1, procedure, options: { timeout: timeoutMs }, args, kwargs, disclose: true });
    });
  }

  private callBuiltin(caller: Peer, requestId: number, builtin: BuiltinProcedure, args: WampList | undefined, kwargs: WampDict | undefined): void {
    try {
      const result = builtin(caller, args ?? [], kwargs ?? {});
      caller.send([MessageType.RESULT, requestId, {}, ...payloadTail(result.args, result.kwargs)]);
    } catch (err) {
      const e = err instanceof WampError ? err : new WampError(ErrorUri.invalidArgument, [String(err)]);
      caller.send(errorMessage(MessageType.CALL, requestId, e.uri, e.args, e.kwargs));
    }
  }

  private abandon(call: PendingCall, mode: CancelMode, uri: string, reason: string): void {
    const interrupts = mode !== "skip" && hasFeature(call.callee, "callee", "call_canceling");
    if (interrupts && mode === "kill") {
      call.killRequested = true;
      if (call.timer !== undefined) clearTimeout(call.timer);
      call.callee.send([MessageType.INTERRUPT, call.invocationId, { mode: "kill", reason: uri }]);
      return;
    }
    this.finish(call);
    if (interrupts) call.callee.send([MessageType.INTERRUPT, call.invocationId, { mode: "killnowait", reason: uri }]);
    call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, uri, [reason]));
  }

  private finish(call: PendingCall): void {
    if (call.timer !== undefined) clearTimeout(call.timer);
    this.byCallee.get(call.callee.session)?.delete(call.invocationId);
    this.byCaller.get(call.caller.session)?.delete(call.callerRequestId);
  }

  private removeRegistration(registration: Registration): void {
    this.registrations.delete(registration.uri, registration.match);
    this.registrationsById.delete(registration.id);
  }
}

function mapFor<K, V>(outer: Map<number, Map<K, V>>, key: number): Map<K, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/** A one-shot peer for a router-originated call; it is never listed among the realm's sessions. */
function internalPeer(realm: string, onMessage: (message: unknown[]) => void): Peer {
  return {
    session: randomId(),
    realm,
    authid: "router",
    authrole: "trusted",
    authmethod: "internal",
    authprovider: "router",
    authextra: {},
    transport: { type: "internal", protocol: "internal", peer: "internal" },
    roles: { caller: { features: { progressive_call_results: false } } },
    send: (message) => {
      onMessage(message);
      return true;
    },
    sendShared: (message) => onMessage(message.message),
    nextRequestId: () => 1,
    isOpen: () => true,
  };
}
