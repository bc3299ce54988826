/**
 * The one error type used inside the service. Each edge maps it once: `rio/` from gRPC status
 * codes, `api/` to `fediversity.error.<code>` URIs, the CLI to exit codes.
 */
import type { RuleViolation } from "./core/limits.js";

export const appErrorCodes = [
  "invalid_argument",
  "not_found",
  "not_authorized",
  "conflict",
  "unavailable",
  "resource_exhausted",
  "failed_precondition",
  "timeout",
  "cancelled",
  "internal",
] as const;

export type AppErrorCode = (typeof appErrorCodes)[number];

export interface ProblemDetail {
  /** Dotted path of the offending input, e.g. `configuration.domain`. */
  readonly path: string;
  readonly message: string;
}

export class AppError extends Error {
  override readonly name: string = "AppError";

  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly details?: readonly ProblemDetail[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Wraps anything thrown into an AppError; unknown failures become `internal`. */
  static from(err: unknown): AppError {
    if (err instanceof AppError) return err;
    if (err instanceof Error) return new AppError("internal", err.message, undefined, { cause: err });
    return new AppError("internal", String(err));
  }

  /** A broken input rule of core (limits.ts), with its detail. */
  static fromViolation(violation: RuleViolation): AppError {
    return new AppError(violation.code, violation.message, [violation.detail]);
  }

  static is(err: unknown, code?: AppErrorCode): err is AppError {
    return err instanceof AppError && (code === undefined || err.code === code);
  }
}

export function isAppErrorCode(value: string): value is AppErrorCode {
  return (appErrorCodes as readonly string[]).includes(value);
}
