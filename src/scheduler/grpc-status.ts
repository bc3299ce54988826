/**
 * The one place where the scheduler's AppErrors become gRPC statuses (its outbound edge; the rio
 * client's src/rio/grpc-errors.ts is the inbound one). Applied to every RPC as an interceptor, so
 * handlers and everything below them throw AppError only.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AppError, type AppErrorCode } from "../errors.js";

export function statusCodeFor(code: AppErrorCode): Code {
  switch (code) {
    case "invalid_argument":
      return Code.InvalidArgument;
    case "not_found":
      return Code.NotFound;
    case "conflict":
      return Code.AlreadyExists;
    case "unavailable":
      return Code.Unavailable;
    case "resource_exhausted":
      return Code.ResourceExhausted;
    case "failed_precondition":
      return Code.FailedPrecondition;
    case "not_authorized":
      return Code.PermissionDenied;
    case "timeout":
      return Code.DeadlineExceeded;
    case "cancelled":
      return Code.Canceled;
    case "internal":
      return Code.Internal;
    default: {
      const never: never = code;
      return never;
    }
  }
}

export function toConnectError(err: unknown): unknown {
  return err instanceof AppError ? new ConnectError(err.message, statusCodeFor(err.code), undefined, undefined, err) : err;
}

async function* mapStreamErrors<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (err) {
    throw toConnectError(err);
  }
}

/** Maps AppErrors thrown by a handler, before or while it streams, to their status. */
export const appErrorStatus: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    return res.stream ? { ...res, message: mapStreamErrors(res.message) } : res;
  } catch (err) {
    throw toConnectError(err);
  }
};
