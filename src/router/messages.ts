/** WAMP v2 message codes and small helpers for building and checking messages. */
export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
} as const;

export type WampDict = Record<string, unknown>;
export type WampList = unknown[];

/** Largest WAMP id (2^53). */
export const MAX_ID = 2 ** 53;

export function isDict(value: unknown): value is WampDict {
  if (typeof value !== "object" || value === null || Array.isArray(value) || Buffer.isBuffer(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** WAMP ids (session, request, registration, ...) lie in [1, 2^53]; 0 is never one. */
export function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_ID;
}

export function isString(value: unknown): value is string {
  return typeof value === "string";
}

/**
 * The optional trailing `Arguments|list, ArgumentsKw|dict` of a message, passed through unchanged
 * but never as `null`, and with trailing empty values omitted.
 */
export function payloadTail(args: WampList | undefined, kwargs: WampDict | undefined): unknown[] {
  const hasKw = kwargs !== undefined && Object.keys(kwargs).length > 0;
  if (hasKw) return [args ?? [], kwargs];
  if (args !== undefined && args.length > 0) return [args];
  return [];
}

export function errorMessage(
  requestType: number,
  requestId: number,
  uri: string,
  args?: WampList,
  kwargs?: WampDict,
  details: WampDict = {},
): unknown[] {
  return [MessageType.ERROR, requestType, requestId, details, uri, ...payloadTail(args, kwargs)];
}
