/**
 * Decoded message elements → one tagged message, its shape checked here and nowhere else.
 * A message of the wrong shape is a protocol violation; a well-shaped request with an element the
 * decoder refused (see decode-frame.ts) becomes `refused`, answered with an ERROR for that request.
 */
import { AppError } from "../../errors.js";
import { isDict, isId, isString, MessageType, type WampDict, type WampList } from "../messages.js";
import { isRefused } from "./decode-frame.js";

export type InboundMessage =
  | { readonly kind: "hello"; readonly realm: string; readonly details: WampDict & { readonly roles: WampDict } }
  | { readonly kind: "authenticate"; readonly signature: string; readonly extra: WampDict }
  | { readonly kind: "abort" }
  | { readonly kind: "goodbye" }
  | { readonly kind: "publish"; readonly requestId: number; readonly options: WampDict; readonly topic: unknown; readonly args: WampList | undefined; readonly kwargs: WampDict | undefined }
  | { readonly kind: "subscribe"; readonly requestId: number; readonly options: WampDict; readonly topic: unknown }
  | { readonly kind: "unsubscribe"; readonly requestId: number; readonly subscriptionId: number }
  | { readonly kind: "call"; readonly requestId: number; readonly options: WampDict; readonly procedure: unknown; readonly args: WampList | undefined; readonly kwargs: WampDict | undefined }
  | { readonly kind: "cancel"; readonly requestId: number; readonly options: WampDict }
  | { readonly kind: "register"; readonly requestId: number; readonly options: WampDict; readonly procedure: unknown }
  | { readonly kind: "unregister"; readonly requestId: number; readonly registrationId: number }
  | { readonly kind: "yield"; readonly invocationId: number; readonly options: WampDict; readonly args: WampList | undefined; readonly kwargs: WampDict | undefined }
  | { readonly kind: "invocation-error"; readonly invocationId: number; readonly details: WampDict; readonly uri: string; readonly args: WampList | undefined; readonly kwargs: WampDict | undefined }
  /** A request whose type and id could be read, but one of its elements was refused. */
  | { readonly kind: "refused"; readonly type: number; readonly requestId: number; readonly problem: AppError; readonly acknowledge: boolean }
  /** A message type clients never send (WELCOME, EVENT, ...) or an unknown one. */
  | { readonly kind: "unexpected"; readonly type: number }
  | { readonly kind: "violation"; readonly reason: string };

/** What an element must be: a WAMP id, a dict, a string, anything, optional list/dict, HELLO details, 68. */
const enum Check {
  Id,
  Dict,
  String,
  Any,
  OptionalList,
  OptionalDict,
  Roles,
  Invocation,
}

interface Field {
  readonly name: string;
  readonly check: Check;
}

interface Shape {
  readonly name: string;
  /** Elements after the type code; optional ones may be left off the end. */
  readonly fields: readonly Field[];
  /** How many elements after the type code must be present. */
  readonly required: number;
  /** Index of the request id within the message, for requests. */
  readonly requestIdAt?: number;
  readonly usage: string;
}

const optional = (check: Check): boolean => check === Check.OptionalList || check === Check.OptionalDict;

const shape = (name: string, code: number, fields: readonly (readonly [string, Check])[], requestIdAt?: number, usage?: string): Shape => ({
  name,
  fields: fields.map(([n, check]) => ({ name: n, check })),
  required: fields.filter(([, c]) => !optional(c)).length,
  ...(requestIdAt !== undefined ? { requestIdAt } : {}),
  usage: usage ?? `${name} must be [${[code, ...fields.map(([n, c]) => (optional(c) ? `${n}?` : n))].join(", ")}]`,
});

const payload = [["args", Check.OptionalList], ["kwargs", Check.OptionalDict]] as const;
/** Indexed by message type code (an array: the lookup runs for every message). */
const shapes: (Shape | undefined)[] = [];
for (const [code, s] of [
  [MessageType.HELLO, shape("HELLO", 1, [["realm", Check.String], ["details", Check.Roles]], undefined, "HELLO must be [1, realm, details] with details.roles")],
  [MessageType.AUTHENTICATE, shape("AUTHENTICATE", 5, [["signature", Check.String], ["extra", Check.Dict]])],
  [MessageType.GOODBYE, shape("GOODBYE", 6, [["details", Check.Dict], ["reason", Check.String]])],
  [MessageType.PUBLISH, shape("PUBLISH", 16, [["request", Check.Id], ["options", Check.Dict], ["topic", Check.Any], ...payload], 1)],
  [MessageType.SUBSCRIBE, shape("SUBSCRIBE", 32, [["request", Check.Id], ["options", Check.Dict], ["topic", Check.Any]], 1)],
  [MessageType.UNSUBSCRIBE, shape("UNSUBSCRIBE", 34, [["request", Check.Id], ["subscription", Check.Id]], 1)],
  [MessageType.CALL, shape("CALL", 48, [["request", Check.Id], ["options", Check.Dict], ["procedure", Check.Any], ...payload], 1)],
  [MessageType.CANCEL, shape("CANCEL", 49, [["request", Check.Id], ["options", Check.Dict]], 1)],
  [MessageType.REGISTER, shape("REGISTER", 64, [["request", Check.Id], ["options", Check.Dict], ["procedure", Check.Any]], 1)],
  [MessageType.UNREGISTER, shape("UNREGISTER", 66, [["request", Check.Id], ["registration", Check.Id]], 1)],
  [MessageType.YIELD, shape("YIELD", 70, [["request", Check.Id], ["options", Check.Dict], ...payload], 1)],
  [
    MessageType.ERROR,
    shape(
      "ERROR",
      8,
      [["type", Check.Invocation], ["request", Check.Id], ["details", Check.Dict], ["error", Check.String], ...payload],
      2,
      "ERROR from a client must answer an INVOCATION: [8, 68, request, details, error, args?, kwargs?]",
    ),
  ],
] as const) {
  shapes[code] = s;
}

function passes(value: unknown, check: Check): boolean {
  switch (check) {
    case Check.Id:
      return isId(value);
    case Check.Dict:
      return isDict(value);
    case Check.String:
      return isString(value);
    case Check.Any:
      return true;
    case Check.OptionalList:
      return value === undefined || Array.isArray(value);
    case Check.OptionalDict:
      return value === undefined || isDict(value);
    case Check.Roles:
      return isDict(value) && isDict(value.roles);
    case Check.Invocation:
      return value === MessageType.INVOCATION;
    default: {
      const never: never = check;
      return never;
    }
  }
}

/** `refusals`: some elements may be RefusedElements (see decode-frame.ts). */
export function readInbound(m: readonly unknown[], refusals: boolean): InboundMessage {
  const type = m[0];
  if (typeof type !== "number") return { kind: "violation", reason: "a WAMP message must be a non-empty list starting with a message type" };
  if (type === MessageType.ABORT) return { kind: "abort" };
  const s = Number.isInteger(type) && type >= 0 && type < shapes.length ? shapes[type] : undefined;
  if (s === undefined) return { kind: "unexpected", type };
  if (m.length < 1 + s.required || m.length > 1 + s.fields.length) return { kind: "violation", reason: s.usage };
  let refusal: { field: string; problem: string } | undefined;
  for (let i = 0; i < s.fields.length; i++) {
    const field = s.fields[i]!;
    const value = m[i + 1];
    if (refusals && isRefused(value)) {
      if (i + 1 === s.requestIdAt || field.check === Check.Invocation) return { kind: "violation", reason: `${s.name} ${field.name} cannot be read: ${value.problem}` };
      refusal ??= { field: field.name, problem: value.problem };
    } else if (!passes(value, field.check)) {
      return { kind: "violation", reason: s.usage };
    }
  }
  if (refusal !== undefined) {
    if (type === MessageType.GOODBYE) return { kind: "goodbye" };
    if (s.requestIdAt === undefined) return { kind: "violation", reason: `${s.name} ${refusal.field} refused: ${refusal.problem}` };
    const options = m[2];
    return {
      kind: "refused",
      type,
      requestId: m[s.requestIdAt] as number,
      problem: new AppError("invalid_argument", `${s.name} ${refusal.field} refused: ${refusal.problem}`, [{ path: refusal.field, message: refusal.problem }]),
      acknowledge: type === MessageType.PUBLISH && isDict(options) && options.acknowledge === true,
    };
  }
  return typed(type, m);
}

function list(v: unknown): WampList | undefined {
  return v as WampList | undefined;
}

function dict(v: unknown): WampDict | undefined {
  return v as WampDict | undefined;
}

function typed(type: number, m: readonly unknown[]): InboundMessage {
  switch (type) {
    case MessageType.HELLO:
      return { kind: "hello", realm: m[1] as string, details: m[2] as WampDict & { roles: WampDict } };
    case MessageType.AUTHENTICATE:
      return { kind: "authenticate", signature: m[1] as string, extra: m[2] as WampDict };
    case MessageType.GOODBYE:
      return { kind: "goodbye" };
    case MessageType.PUBLISH:
      return { kind: "publish", requestId: m[1] as number, options: m[2] as WampDict, topic: m[3], args: list(m[4]), kwargs: dict(m[5]) };
    case MessageType.SUBSCRIBE:
      return { kind: "subscribe", requestId: m[1] as number, options: m[2] as WampDict, topic: m[3] };
    case MessageType.UNSUBSCRIBE:
      return { kind: "unsubscribe", requestId: m[1] as number, subscriptionId: m[2] as number };
    case MessageType.CALL:
      return { kind: "call", requestId: m[1] as number, options: m[2] as WampDict, procedure: m[3], args: list(m[4]), kwargs: dict(m[5]) };
    case MessageType.CANCEL:
      return { kind: "cancel", requestId: m[1] as number, options: m[2] as WampDict };
    case MessageType.REGISTER:
      return { kind: "register", requestId: m[1] as number, options: m[2] as WampDict, procedure: m[3] };
    case MessageType.UNREGISTER:
      return { kind: "unregister", requestId: m[1] as number, registrationId: m[2] as number };
    case MessageType.YIELD:
      return { kind: "yield", invocationId: m[1] as number, options: m[2] as WampDict, args: list(m[3]), kwargs: dict(m[4]) };
    case MessageType.ERROR:
      return { kind: "invocation-error", invocationId: m[2] as number, details: m[3] as WampDict, uri: m[4] as string, args: list(m[5]), kwargs: dict(m[6]) };
    default:
      return { kind: "unexpected", type };
  }
}
