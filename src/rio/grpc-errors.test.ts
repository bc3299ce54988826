import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { isRetryable, toAppError } from "./grpc-errors.js";

describe("toAppError", () => {
  it.each([
    [Code.InvalidArgument, "invalid_argument"],
    [Code.NotFound, "not_found"],
    [Code.AlreadyExists, "conflict"],
    [Code.Unavailable, "unavailable"],
    [Code.ResourceExhausted, "resource_exhausted"],
    [Code.FailedPrecondition, "failed_precondition"],
    [Code.Unauthenticated, "not_authorized"],
    [Code.PermissionDenied, "not_authorized"],
    [Code.DeadlineExceeded, "timeout"],
    [Code.Canceled, "cancelled"],
    [Code.Internal, "internal"],
    [Code.Unknown, "internal"],
    [Code.Unimplemented, "internal"],
  ] as const)("maps gRPC %s to %s", (code, want) => {
    const e = toAppError(new ConnectError("boom", code), "Ctx");
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe(want);
    expect(e.message).toBe("Ctx: boom");
  });

  it("passes AppErrors through and wraps plain errors as internal", () => {
    const app = new AppError("conflict", "x");
    expect(toAppError(app)).toBe(app);
    expect(toAppError(new Error("socket hang up")).code).toBe("internal");
  });

  it("retries transport-ish failures only", () => {
    expect(isRetryable(new AppError("unavailable", ""))).toBe(true);
    expect(isRetryable(new AppError("internal", ""))).toBe(true);
    expect(isRetryable(new AppError("invalid_argument", ""))).toBe(false);
    expect(isRetryable(new AppError("not_found", ""))).toBe(false);
  });
});
