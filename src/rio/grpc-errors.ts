/**
 * The one place where gRPC status codes become AppErrors. The transport (./grpc-channel.ts) turns
 * every non-OK status into an AppError here, and every RPC of the rio client routes its other
 * failures through `toAppError`, so callers only ever see the closed AppError code set.
 */
import { status as Status } from "@grpc/grpc-js";
import { AppError, type AppErrorCode } from "../errors.js";

export function appErrorCodeFor(code: Status): AppErrorCode {
  switch (code) {
    case Status.INVALID_ARGUMENT:
      return "invalid_argument";
    case Status.NOT_FOUND:
      return "not_found";
    case Status.ALREADY_EXISTS:
      return "conflict";
    case Status.UNAVAILABLE:
      return "unavailable";
    case Status.RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case Status.FAILED_PRECONDITION:
      return "failed_precondition";
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return "not_authorized";
    case Status.DEADLINE_EXCEEDED:
      return "timeout";
    case Status.CANCELLED:
      return "cancelled";
    case Status.OK: // never passed for a failure; an OK without its message is a protocol error
    case Status.UNKNOWN:
    case Status.ABORTED:
    case Status.OUT_OF_RANGE:
    case Status.UNIMPLEMENTED:
    case Status.INTERNAL:
    case Status.DATA_LOSS:
      return "internal";
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

/** A call's final non-OK status as an AppError; a code outside gRPC's 0–16 counts as UNKNOWN. */
export function statusToAppError(status: { readonly code: number; readonly details: string }, context?: string): AppError {
  const known = Number.isInteger(status.code) && status.code >= 0 && status.code <= 16;
  const code = appErrorCodeFor(known ? (status.code as Status) : Status.UNKNOWN);
  const message = context ? `${context}: ${status.details}` : status.details;
  return new AppError(code, message);
}

/** AppErrors pass through untouched; anything else that escaped a call is `internal`. */
export function toAppError(err: unknown, context?: string): AppError {
  if (err instanceof AppError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new AppError("internal", context ? `${context}: ${text}` : text, undefined, { cause: err });
}

/**
 * Whether re-issuing a stream after this error can help. Bad input, auth problems and a missing
 * build will not change by waiting; everything else (transport resets, standby replicas,
 * overload, header timeouts) might.
 */
export function isRetryable(err: AppError): boolean {
  switch (err.code) {
    case "unavailable":
    case "resource_exhausted":
    case "internal":
    case "timeout":
    case "cancelled":
      return true;
    case "invalid_argument":
    case "not_found":
    case "not_authorized":
    case "conflict":
    case "failed_precondition":
      return false;
    default: {
      const unreachable: never = err.code;
      return unreachable;
    }
  }
}
