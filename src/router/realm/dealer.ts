import { AppError } from "../../errors.js";
import { ErrorUri, type ProcedureOutcome, type WampErrorReply } from "../errors.js";
import { randomId, type MatchPolicy } from "../ids.js";
import { errorMessage, MAX_ID, MessageType, payloadTail, type WampDict, type WampList } from "../messages.js";
import { hasFeature, type Peer } from "../peer.js";
import { createUriTable, type PrefixMode } from "../uri-table.js";

interface Registration {
  readonly id: number;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly callee: Peer;
  /** REGISTER.Options.disclose_caller: every INVOCATION names its caller. */
  readonly discloseCaller: boolean;
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

/** Invocations of one callee: ids are issued in sequence, so an id above the last was never issued. */
interface CalleeInvocations {
  lastId: number;
  /** The ids went past 2^53 and restarted at 1: every id may have been issued. */
  wrapped: boolean;
  readonly pending: Map<number, PendingCall>;
}

export type CancelMode = "skip" | "kill" | "killnowait";

/** How the dealer took a callee's YIELD or ERROR. */
export type AnswerVerdict =
  | "accepted"
  /** For an invocation that was answered, cancelled, timed out or lost its caller: dropped. */
  | "late"
  /** For an invocation this callee was never sent: a protocol violation. */
  | "never-issued";

/** A router-implemented procedure (meta API). */
export type BuiltinProcedure = (caller: Peer, args: WampList, kwargs: WampDict) => ProcedureOutcome;

export interface DealerOptions {
  readonly realm: string;
  readonly prefixMode: PrefixMode;
  /** Applied when the caller gives no `timeout` option; 0 = none. */
  readonly defaultCallTimeoutMs: number;
  /** The ERROR a caller gets when its call's arguments cannot be passed on (see RouterOptions.callPayloadError). */
  callPayloadError(problem: AppError): WampErrorReply;
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

export interface Dealer {
  hasRegistration(procedure: string): boolean;
  addBuiltin(procedure: string, builtin: BuiltinProcedure): void;
  register(callee: Peer, requestId: number, procedure: string, match: MatchPolicy, discloseCaller: boolean): void;
  unregister(callee: Peer, requestId: number, registrationId: number): void;
  /** Routes a call; `duplicate` when the caller already has a call in flight under that request id. */
  call(caller: Peer, request: CallRequest): "routed" | "duplicate";
  yieldResult(callee: Peer, invocationId: number, options: WampDict, args: WampList | undefined, kwargs: WampDict | undefined): AnswerVerdict;
  calleeError(callee: Peer, invocationId: number, details: WampDict, uri: string, args: WampList | undefined, kwargs: WampDict | undefined): AnswerVerdict;
  /** A YIELD or ERROR the router refused to decode: the caller learns why, the call ends. */
  refuseAnswer(callee: Peer, invocationId: number, problem: AppError): AnswerVerdict;
  cancel(caller: Peer, requestId: number, mode: CancelMode): void;
  /** Removes everything a leaving session owned: registrations, and calls it made or served. */
  removePeer(peer: Peer): void;
  /** Calls a procedure from inside the router (dynamic authenticator/authorizer). */
  callInternal(procedure: string, args: WampList, kwargs: WampDict, timeoutMs: number): Promise<ProcedureOutcome>;
}

/**
 * A callee takes progressive results only if it announces both features: the spec treats a callee
 * that cannot be interrupted as not supporting them (advanced profile, progressive call results).
 */
const takesProgress = (callee: Peer): boolean =>
  hasFeature(callee, "callee", "progressive_call_results") && hasFeature(callee, "callee", "call_canceling");

const errorReply = (requestType: number, requestId: number, reply: WampErrorReply): unknown[] =>
  errorMessage(requestType, requestId, reply.uri, reply.args, reply.kwargs);

export function createDealer(options: DealerOptions): Dealer {
  const registrations = createUriTable<Registration>(options.prefixMode);
  const registrationsById = new Map<number, Registration>();
  /** callee session → its invocations */
  const callees = new Map<number, CalleeInvocations>();
  /** caller session → call request id → call */
  const byCaller = new Map<number, Map<number, PendingCall>>();
  const builtins = new Map<string, BuiltinProcedure>();

  const invocationsOf = (callee: Peer): CalleeInvocations => {
    let state = callees.get(callee.session);
    if (state === undefined) {
      state = { lastId: 0, wrapped: false, pending: new Map() };
      callees.set(callee.session, state);
    }
    return state;
  };

  const nextInvocationId = (state: CalleeInvocations): number => {
    if (state.lastId >= MAX_ID) {
      state.lastId = 0;
      state.wrapped = true;
    }
    state.lastId += 1;
    return state.lastId;
  };

  const pendingFor = (callee: Peer, invocationId: number): PendingCall | Exclude<AnswerVerdict, "accepted"> => {
    const state = callees.get(callee.session);
    const call = state?.pending.get(invocationId);
    if (call !== undefined) return call;
    return state !== undefined && (state.wrapped || invocationId <= state.lastId) ? "late" : "never-issued";
  };

  const stopTimer = (call: PendingCall): void => {
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.timer = undefined;
  };

  const finish = (call: PendingCall): void => {
    stopTimer(call);
    callees.get(call.callee.session)?.pending.delete(call.invocationId);
    byCaller.get(call.caller.session)?.delete(call.callerRequestId);
  };

  const abandon = (call: PendingCall, mode: CancelMode, uri: string, reason: string): void => {
    const interrupts = mode !== "skip" && hasFeature(call.callee, "callee", "call_canceling");
    if (interrupts && mode === "kill") {
      call.killRequested = true;
      stopTimer(call);
      call.callee.send([MessageType.INTERRUPT, call.invocationId, { mode: "kill", reason: uri }]);
      return;
    }
    finish(call);
    if (interrupts) call.callee.send([MessageType.INTERRUPT, call.invocationId, { mode: "killnowait", reason: uri }]);
    call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, uri, [reason]));
  };

  const removeRegistration = (registration: Registration): void => {
    registrations.delete(registration.uri, registration.match);
    registrationsById.delete(registration.id);
  };

  const callBuiltin = (caller: Peer, requestId: number, builtin: BuiltinProcedure, args: WampList | undefined, kwargs: WampDict | undefined): void => {
    const outcome = builtin(caller, args ?? [], kwargs ?? {});
    if (outcome.kind === "result") caller.send([MessageType.RESULT, requestId, {}, ...payloadTail(outcome.args, outcome.kwargs)]);
    else caller.send(errorReply(MessageType.CALL, requestId, outcome.error));
  };

  const dealer: Dealer = {
    hasRegistration: (procedure) => registrations.best(procedure) !== undefined,
    addBuiltin: (procedure, builtin) => void builtins.set(procedure, builtin),

    register(callee, requestId, procedure, match, discloseCaller) {
      if (registrations.get(procedure, match) !== undefined || builtins.has(procedure)) {
        callee.send(
          errorMessage(MessageType.REGISTER, requestId, ErrorUri.procedureAlreadyExists, [`register for already registered procedure '${procedure}'`]),
        );
        return;
      }
      const registration: Registration = { id: randomId(), uri: procedure, match, callee, discloseCaller };
      registrations.set(procedure, match, registration);
      registrationsById.set(registration.id, registration);
      callee.send([MessageType.REGISTERED, requestId, registration.id]);
    },

    unregister(callee, requestId, registrationId) {
      const registration = registrationsById.get(registrationId);
      if (registration === undefined || registration.callee !== callee) {
        callee.send(errorMessage(MessageType.UNREGISTER, requestId, ErrorUri.noSuchRegistration));
        return;
      }
      removeRegistration(registration);
      callee.send([MessageType.UNREGISTERED, requestId]);
    },

    call(caller, request) {
      const { requestId, procedure, options: callOptions, args, kwargs } = request;
      if (byCaller.get(caller.session)?.has(requestId) === true) return "duplicate";
      const builtin = builtins.get(procedure);
      if (builtin !== undefined) {
        callBuiltin(caller, requestId, builtin, args, kwargs);
        return "routed";
      }
      const registration = registrations.best(procedure);
      if (registration === undefined || !registration.callee.isOpen()) {
        caller.send(errorMessage(MessageType.CALL, requestId, ErrorUri.noSuchProcedure, [`no callee registered for procedure '${procedure}'`]));
        return "routed";
      }
      const callee = registration.callee;
      const invocations = invocationsOf(callee);
      const invocationId = nextInvocationId(invocations);
      const details: WampDict = {};
      if (registration.match !== "exact") details.procedure = procedure;
      const receiveProgress = callOptions.receive_progress === true && takesProgress(callee);
      if (receiveProgress) details.receive_progress = true;
      if (request.disclose || registration.discloseCaller) {
        details.caller = caller.session;
        details.caller_authid = caller.authid;
        details.caller_authrole = caller.authrole;
      }
      const call: PendingCall = { invocationId, callee, caller, callerRequestId: requestId, receiveProgress, timer: undefined, killRequested: false };
      const timeout = typeof callOptions.timeout === "number" && callOptions.timeout > 0 ? callOptions.timeout : options.defaultCallTimeoutMs;
      if (timeout > 0) {
        call.timer = setTimeout(() => abandon(call, "killnowait", ErrorUri.timeout, "call timed out"), timeout);
        call.timer.unref();
      }
      invocations.pending.set(invocationId, call);
      let made = byCaller.get(caller.session);
      if (made === undefined) {
        made = new Map();
        byCaller.set(caller.session, made);
      }
      made.set(requestId, call);
      if (!callee.send([MessageType.INVOCATION, invocationId, registration.id, details, ...payloadTail(args, kwargs)])) {
        // The callee's serializer cannot carry these arguments: answer now rather than leave the caller waiting.
        finish(call);
        const problem = new AppError("invalid_argument", "the call's arguments cannot be encoded for its callee");
        caller.send(errorReply(MessageType.CALL, requestId, options.callPayloadError(problem)));
      }
      return "routed";
    },

    yieldResult(callee, invocationId, yieldOptions, args, kwargs) {
      const call = pendingFor(callee, invocationId);
      if (typeof call === "string") return call;
      if (yieldOptions.progress === true) {
        if (call.receiveProgress) {
          // The call timeout runs between results, not over the whole call (spec: progressive
          // call results, "Timeouts").
          call.timer?.refresh();
          call.caller.send([MessageType.RESULT, call.callerRequestId, { progress: true }, ...payloadTail(args, kwargs)]);
        }
        return "accepted";
      }
      finish(call);
      if (!call.caller.send([MessageType.RESULT, call.callerRequestId, {}, ...payloadTail(args, kwargs)])) {
        call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, ErrorUri.invalidArgument, ["the result cannot be encoded for the caller"]));
      }
      return "accepted";
    },

    calleeError(callee, invocationId, details, uri, args, kwargs) {
      const call = pendingFor(callee, invocationId);
      if (typeof call === "string") return call;
      finish(call);
      call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, uri, args, kwargs, details));
      return "accepted";
    },

    refuseAnswer(callee, invocationId, problem) {
      const call = pendingFor(callee, invocationId);
      if (typeof call === "string") return call;
      finish(call);
      call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, ErrorUri.invalidArgument, [`the callee's answer was refused: ${problem.message}`]));
      return "accepted";
    },

    cancel(caller, requestId, mode) {
      const call = byCaller.get(caller.session)?.get(requestId);
      if (call === undefined || call.killRequested) return;
      abandon(call, mode, ErrorUri.canceled, "call canceled by caller");
    },

    removePeer(peer) {
      for (const registration of [...registrationsById.values()]) {
        if (registration.callee === peer) removeRegistration(registration);
      }
      const served = callees.get(peer.session);
      if (served !== undefined) {
        for (const call of [...served.pending.values()]) {
          finish(call);
          call.caller.send(errorMessage(MessageType.CALL, call.callerRequestId, ErrorUri.canceled, ["callee disconnected"]));
        }
      }
      const made = byCaller.get(peer.session);
      if (made !== undefined) {
        for (const call of [...made.values()]) {
          finish(call);
          if (hasFeature(call.callee, "callee", "call_canceling")) {
            call.callee.send([MessageType.INTERRUPT, call.invocationId, { mode: "killnowait", reason: ErrorUri.canceled }]);
          }
        }
      }
      callees.delete(peer.session);
      byCaller.delete(peer.session);
    },

    callInternal(procedure, args, kwargs, timeoutMs) {
      return new Promise((resolve) => {
        const caller = internalCaller(options.realm, (message) => {
          if (message[0] === MessageType.RESULT) {
            if ((message[2] as WampDict).progress === true) return;
            resolve({ kind: "result", args: (message[3] as WampList | undefined) ?? [], kwargs: (message[4] as WampDict | undefined) ?? {} });
          } else if (message[0] === MessageType.ERROR) {
            resolve({
              kind: "error",
              error: { uri: message[4] as string, args: (message[5] as WampList | undefined) ?? [], kwargs: (message[6] as WampDict | undefined) ?? {} },
            });
          }
        });
        dealer.call(caller, { requestId: 1, procedure, options: { timeout: timeoutMs }, args, kwargs, disclose: true });
      });
    },
  };
  return dealer;
}

/** A one-shot caller for a router-originated call; it is never listed among the realm's sessions. */
function internalCaller(realm: string, onMessage: (message: unknown[]) => void): Peer {
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
    send(message) {
      onMessage(message);
      return true;
    },
    sendShared(shared) {
      onMessage(shared.message);
    },
    isOpen() {
      return true;
    },
  };
}
