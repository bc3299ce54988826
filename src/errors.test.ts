import { describe, expect, it } from "vitest";
import { AppError, isAppErrorCode } from "./errors.js";

describe("AppError", () => {
  it("keeps an AppError as it is", () => {
    const e = new AppError("not_found", "no such deployment");
    expect(AppError.from(e)).toBe(e);
  });

  it("wraps a plain Error as internal, keeping the cause", () => {
    const cause = new Error("boom");
    const e = AppError.from(cause);
    expect(e.code).toBe("internal");
    expect(e.message).toBe("boom");
    expect(e.cause).toBe(cause);
  });

  it("wraps a thrown non-error value", () => {
    expect(AppError.from("weird").message).toBe("weird");
  });

  it("recognises only its closed list of codes", () => {
    expect(isAppErrorCode("conflict")).toBe(true);
    expect(isAppErrorCode("teapot")).toBe(false);
    expect(AppError.is(new AppError("conflict", "x"), "conflict")).toBe(true);
    expect(AppError.is(new AppError("conflict", "x"), "internal")).toBe(false);
  });
});
