import { status as Status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { isRetryable, statusToAppError, toAppError } from "./grpc-errors.js";

describe("toAppError", () => {
  it.each([
    [Status.INVALID_ARGUMENT, "invalid_argument"],
    [Status.NOT_FOUND, "not_found"],
    [Status.ALREADY_EXISTS, "conflict"],
    [Status.UNAVAILABLE, "unavailable"],
    [Status.RESOURCE_EXHAUSTED, "resource_exhausted"],
    [Status.FAILED_PRECONDITION, "failed_precondition"],
    [Status.UNAUTHENTICATED, "not_authorized"],
    [Status.PERMISSION_DENIED, "not_authorized"],
    [Status.DEADLINE_EXCEEDED, "timeout"],
    [Status.CANCELLED, "cancelled"],
    [Status.INTERNAL, "internal"],
    [Status.UNKNOWN, "internal"],
    [Status.UNIMPLEMENTED, "internal"],
  ] as const)("maps gRPC %s to %s", (code, want) => {
    const e = statusToAppError({ code, details: "boom" }, "Ctx");
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe(want);
    expect(e.message).toBe("Ctx: boom");
  });

  it("treats a status code outside gRPC's range as UNKNOWN", () => {
    expect(statusToAppError({ code: 99, details: "odd" }).code).toBe("internal");
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
