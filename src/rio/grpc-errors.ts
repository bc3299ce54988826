/**
 * The one place where gRPC status codes become AppErrors. Every RPC of the rio client routes its
 * failures through `toAppError`, so callers only ever see the closed AppError code set.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { AppError, type AppErrorCode } from "../errors.js";

export function appErrorCodeFor(code: Code): AppErrorCode {
  switch (code) {
    case Code.InvalidArgument:
      return "invalid_argument";
    case Code.NotFound:
      return "not_found";
    case Code.AlreadyExists:
      return "conflict";
    case Code.Unavailable:
      return "unavailable";
    case Code.ResourceExhausted:
      return "resource_exhausted";
    case Code.FailedPrecondition:
      return "failed_precondition";
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return "not_authorized";
    case Code.DeadlineExceeded:
      return "timeout";
    case Code.Canceled:
      return "cancelled";
    case Code.Unknown:
    case Code.Aborted:
    case Code.OutOfRange:
    case Code.Unimplemented:
    case Code.Internal:
    case Code.DataLoss:
      return "internal";
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

/** Wraps anything a connect call threw; AppErrors pass through untouched. */
export function toAppError(err: unknown, context?: string): AppError {
  if (err instanceof AppError) return err;
  const ce = ConnectError.from(err);
  const message = context ? `${context}: ${ce.rawMessage}` : ce.rawMessage;
  return new AppError(appErrorCodeFor(ce.code), message, undefined, { cause: err });
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
