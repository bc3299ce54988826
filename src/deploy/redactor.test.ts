import { describe, expect, it } from "vitest";
import { createRedactor } from "./redactor.js";

describe("createRedactor", () => {
  it("replaces every occurrence, longest secret first, regex characters literally", () => {
    const r = createRedactor(["abc", "abcdef", "a.c$(x)", ""]);
    expect(r.redact("abcdef abc a.c$(x) aXc")).toBe("[REDACTED] [REDACTED] [REDACTED] aXc");
  });

  it("redacts each line of a multi-line secret on its own", () => {
    const r = createRedactor(["-----BEGIN KEY-----\nc2VjcmV0\n-----END KEY-----"]);
    expect(r.redact("line c2VjcmV0 here")).toBe("line [REDACTED] here");
  });

  it("leaves text alone without secrets and can be extended", () => {
    expect(createRedactor().redact("plain")).toBe("plain");
    expect(createRedactor(["one"]).with(["two"]).redact("one two")).toBe("[REDACTED] [REDACTED]");
  });
});
