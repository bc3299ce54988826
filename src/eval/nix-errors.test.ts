import { describe, expect, it } from "vitest";
import { errorFromText, parseNixError, stripAnsi } from "./nix-errors.js";

// Recorded from nix-instantiate 2.8 with --log-format internal-json (--show-trace for the throw).
const missingAttr =
  '@nix {"action":"msg","column":9,"file":"/tmp/probe/bad.nix","level":0,"line":4,"msg":"\\u001b[31;1merror:\\u001b[0m attribute \'\\u001b[35;1mnope\\u001b[0m\' missing\\n\\n       \\u001b[34;1mat \\u001b[35;1m/tmp/probe/bad.nix:4:9\\u001b[0m:","raw_msg":"attribute \'\\u001b[35;1mnope\\u001b[0m\' missing"}';
const thrown =
  '@nix {"action":"msg","column":null,"file":null,"level":0,"line":null,"msg":"\\u001b[31;1merror:\\u001b[0m boom here\\n\\n       … while evaluating the attribute \'\\u001b[35;1mthr\\u001b[0m\'","raw_msg":"boom here","trace":[{"column":10,"file":"/opt/fd/src/eval/walker.nix","line":3,"raw_msg":"from call site"},{"column":3,"file":"/tmp/probe/bad.nix","line":5,"raw_msg":"while evaluating the attribute \'thr\'"}]}';
const warning = '@nix {"action":"msg","level":0,"msg":"warning: the group \'nixbld\' specified in \'build-users-group\' does not exist"}';

describe("parseNixError", () => {
  it("takes message and position from an internal-json error, ANSI stripped", () => {
    const e = parseNixError([warning, missingAttr, '@nix {"action":"msg","level":0,"msg":"(use \'--show-trace\')"}'].join("\n"));
    expect(e).toMatchObject({ code: "eval_failed", message: "attribute 'nope' missing", file: "/tmp/probe/bad.nix", line: 4, column: 9 });
    expect(e!.detail).not.toContain("\u001b");
    expect(e!.detail).toContain("at /tmp/probe/bad.nix:4:9");
  });

  it("falls back to the first trace position outside our own files", () => {
    expect(parseNixError(thrown, ["/opt/fd/src/eval/"])).toMatchObject({ message: "boom here", file: "/tmp/probe/bad.nix", line: 5, column: 3 });
  });

  it("understands plain stderr and returns null when there is no error", () => {
    const plain = "warning: x\nerror: attribute 'nope' missing\n\n       at /tmp/a.nix:4:9:\n";
    expect(parseNixError(plain)).toMatchObject({ message: "attribute 'nope' missing", file: "/tmp/a.nix", line: 4, column: 9 });
    expect(parseNixError(warning)).toBeNull();
  });
});

describe("errorFromText / stripAnsi", () => {
  it("finds the message line after a bare 'error:'", () => {
    expect(errorFromText("error:\n  … while evaluating\n\n  at /x.nix:1:2:\n")).toMatchObject({ message: "… while evaluating", file: "/x.nix", line: 1, column: 2 });
  });
  it("removes colour codes", () => {
    expect(stripAnsi("\u001b[31;1merror:\u001b[0m x")).toBe("error: x");
  });
});
