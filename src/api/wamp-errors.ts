/**
 * The one place where errors cross the WAMP edge: AppError → `fediversity.error.<code>` for the
 * service, and WAMP errors → AppError for clients (the CLI).
 */
import { randomUUID } from "node:crypto";
import { AppError, isAppErrorCode, type AppErrorCode, type ProblemDetail } from "../errors.js";

/** The error codes of the API contract. */
export const apiErrorCodes = [
  "invalid_argument",
  "not_found",
  "not_authorized",
  "conflict",
  "unavailable",
  "resource_exhausted",
  "internal",
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

export const errorUriPrefix = "fediversity.error.";

export function errorUri(code: ApiErrorCode): string {
  return `${errorUriPrefix}${code}`;
}

/** Internal codes outside the contract are folded into the nearest contract code. */
export function toApiErrorCode(code: AppErrorCode): ApiErrorCode {
  switch (code) {
    case "invalid_argument":
    case "not_found":
    case "not_authorized":
    case "conflict":
    case "unavailable":
    case "resource_exhausted":
    case "internal":
      return code;
    case "failed_precondition":
      return "conflict";
    case "timeout":
    case "cancelled":
      return "unavailable";
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

export interface WampErrorKwargs {
  code: ApiErrorCode;
  message: string;
  details?: ProblemDetail[];
}

export interface WampErrorPayload {
  uri: string;
  args: [string];
  kwargs: WampErrorKwargs;
}

/**
 * Maps anything thrown by a procedure to the contract's error payload. Internal failures get a
 * generic message with an incident id (never a stack, path or secret); `onInternal` receives the
 * original error and that id so it can be logged.
 */
export function toWampError(err: unknown, onInternal?: (err: unknown, incident: string) => void): WampErrorPayload {
  const appError = err instanceof AppError ? err : null;
  const code: ApiErrorCode = appError ? toApiErrorCode(appError.code) : "internal";
  let message: string;
  if (code === "internal") {
    const incident = randomUUID();
    onInternal?.(err, incident);
    message = `internal error (incident ${incident})`;
  } else {
    message = appError?.message ?? "error";
  }
  const kwargs: WampErrorKwargs = { code, message };
  const details = appError?.details;
  if (code !== "internal" && details && details.length > 0) {
    kwargs.details = details.map((d) => ({ path: d.path, message: d.message }));
  }
  return { uri: errorUri(code), args: [message], kwargs };
}

/** The WAMP-level URIs a router may answer with, as AppError codes (client side). */
const wampUriCodes: Record<string, AppErrorCode> = {
  "wamp.error.not_authorized": "not_authorized",
  "wamp.error.authorization_failed": "not_authorized",
  "wamp.error.authentication_failed": "not_authorized",
  "wamp.error.no_such_realm": "not_found",
  "wamp.error.no_such_procedure": "unavailable",
  "wamp.error.no_available_callee": "unavailable",
  "wamp.error.canceled": "cancelled",
  "wamp.error.timeout": "timeout",
  "wamp.error.invalid_argument": "invalid_argument",
  "wamp.error.invalid_uri": "invalid_argument",
  "wamp.error.payload_size_exceeded": "resource_exhausted",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Turns a rejected call (autobahn-js `Error { error, args, kwargs }`, or anything else) back into
 * an AppError carrying the contract code and details.
 */
export function fromWampError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isRecord(err) && typeof err["error"] === "string") {
    const uri = err["error"];
    const kwargs = isRecord(err["kwargs"]) ? err["kwargs"] : {};
    const args = Array.isArray(err["args"]) ? err["args"] : [];
    const message =
      typeof kwargs["message"] === "string" ? kwargs["message"] : typeof args[0] === "string" ? args[0] : uri;
    const suffix = uri.startsWith(errorUriPrefix) ? uri.slice(errorUriPrefix.length) : null;
    const code: AppErrorCode =
      suffix !== null ? (isAppErrorCode(suffix) ? suffix : "internal") : (wampUriCodes[uri] ?? "internal");
    const details = Array.isArray(kwargs["details"])
      ? kwargs["details"].filter(isRecord).map((d) => ({ path: String(d["path"] ?? ""), message: String(d["message"] ?? "") }))
      : undefined;
    return new AppError(code, message, details);
  }
  return AppError.from(err);
}
