import { describe, expect, it } from "vitest";
import { intOption, parseCliArgs } from "./args.js";
import { exitCodeForError, runCli } from "./index.js";

function capture() {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      env: {},
    },
    out: () => out,
    err: () => err,
  };
}

describe("cli arguments", () => {
  it("parses a command, its positionals and options", () => {
    const a = parseCliArgs(["submit", "mastodon", "--config", "c.json", "--mode", "enqueue", "--json", "-w"]);
    expect(a.command).toBe("submit");
    expect(a.positionals).toEqual(["mastodon"]);
    expect(a.options).toMatchObject({ config: "c.json", mode: "enqueue", json: true, watch: true });
  });

  it("rejects unknown commands and options", () => {
    expect(() => parseCliArgs(["frobnicate"])).toThrow(/unknown command/);
    expect(() => parseCliArgs(["list", "--colour"])).toThrow();
    expect(() => intOption("limit", "ten")).toThrow(/non-negative integer/);
    expect(intOption("limit", "10")).toBe(10);
  });

  it("maps error codes to exit codes", () => {
    expect(exitCodeForError("invalid_argument")).toBe(2);
    expect(exitCodeForError("not_found")).toBe(3);
    expect(exitCodeForError("unavailable")).toBe(4);
  });

  it("prints usage on --help and exits 2 on a usage error, without connecting", async () => {
    const c = capture();
    expect(await runCli(["--help"], c.io)).toBe(0);
    expect(c.out()).toContain("usage: fediversity-deploy");
    const d = capture();
    expect(await runCli(["nope"], d.io)).toBe(2);
    expect(d.err()).toContain("unknown command 'nope'");
  });

  it("reports an unreachable router as unavailable (exit 4)", async () => {
    const c = capture();
    const code = await runCli(["list", "--url", "ws://127.0.0.1:9/ws"], c.io);
    expect(code).toBe(4);
    expect(c.err()).toMatch(/unavailable/);
  });
});
