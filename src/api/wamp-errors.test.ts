import { describe, expect, it } from "vitest";
import { AppError, appErrorCodes } from "../errors.js";
import { apiErrorCodes, fromWampError, toApiErrorCode, toWampError } from "./wamp-errors.js";

describe("error mapping", () => {
  it("maps a contract code to its URI with args [message] and kwargs {code, message, details}", () => {
    const err = new AppError("invalid_argument", "deployment: bad", [{ path: "deployment", message: "bad" }]);
    expect(toWampError(err)).toEqual({
      uri: "fediversity.error.invalid_argument",
      args: ["deployment: bad"],
      kwargs: { code: "invalid_argument", message: "deployment: bad", details: [{ path: "deployment", message: "bad" }] },
    });
    expect(toWampError(new AppError("not_found", "no such deployment")).kwargs).toEqual({
      code: "not_found",
      message: "no such deployment",
    });
  });

  it("folds internal codes into contract codes", () => {
    expect(toApiErrorCode("failed_precondition")).toBe("conflict");
    expect(toApiErrorCode("timeout")).toBe("unavailable");
    expect(toApiErrorCode("cancelled")).toBe("unavailable");
    for (const code of appErrorCodes) expect(apiErrorCodes).toContain(toApiErrorCode(code));
  });

  it("never leaks the message or stack of an internal failure", () => {
    const seen: unknown[] = [];
    const payload = toWampError(new Error("password=hunter2 at /secret/path"), (err, incident) => seen.push(err, incident));
    expect(payload.uri).toBe("fediversity.error.internal");
    expect(JSON.stringify(payload)).not.toMatch(/hunter2|secret|at /);
    expect(payload.kwargs.message).toMatch(/^internal error \(incident [0-9a-f-]+\)$/);
    expect(seen[0]).toBeInstanceOf(Error);
    expect(payload.kwargs.message).toContain(String(seen[1]));
    expect(toWampError(new AppError("internal", "db file /var/x corrupt")).args[0]).not.toContain("/var/x");
  });

  it("turns a WAMP error back into an AppError", () => {
    const back = fromWampError({
      error: "fediversity.error.invalid_argument",
      args: ["bad"],
      kwargs: { code: "invalid_argument", message: "bad", details: [{ path: "x", message: "y" }] },
    });
    expect(back.code).toBe("invalid_argument");
    expect(back.details).toEqual([{ path: "x", message: "y" }]);
    expect(fromWampError({ error: "wamp.error.not_authorized", args: ["no"], kwargs: {} }).code).toBe("not_authorized");
    expect(fromWampError({ error: "wamp.error.no_such_procedure", args: [], kwargs: {} }).code).toBe("unavailable");
    expect(fromWampError({ error: "com.other.thing", args: [], kwargs: {} }).code).toBe("internal");
  });
});
