import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { parseDerivation } from "./aterm.js";

const sample =
  'Derive([("dev","/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x-dev","",""),("out","/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x","","")],' +
  '[("/nix/store/cccccccccccccccccccccccccccccccc-dep.drv",["dev","out"])],["/nix/store/dddddddddddddddddddddddddddddddd-src.sh"],' +
  '"x86_64-linux","/bin/sh",["-c","echo \\"hi\\"\\n\\tdone\\\\ \\r"],' +
  '[("name","x"),("requiredSystemFeatures","kvm big-parallel"),("empty","")])';

describe("parseDerivation", () => {
  it("reads every field in order", () => {
    const d = parseDerivation(sample);
    expect(d.outputs.map((o) => o.name)).toEqual(["dev", "out"]);
    expect(d.outputs[1]).toEqual({ name: "out", path: "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x", hashAlgo: "", hash: "" });
    expect([...d.inputDrvs]).toEqual([["/nix/store/cccccccccccccccccccccccccccccccc-dep.drv", ["dev", "out"]]]);
    expect(d.inputSrcs).toEqual(["/nix/store/dddddddddddddddddddddddddddddddd-src.sh"]);
    expect(d.system).toBe("x86_64-linux");
    expect(d.builder).toBe("/bin/sh");
    expect(d.env.get("requiredSystemFeatures")).toBe("kvm big-parallel");
    expect(d.env.get("empty")).toBe("");
  });

  it("decodes the escapes \\\" \\\\ \\n \\r \\t", () => {
    expect(parseDerivation(sample).args[1]).toBe('echo "hi"\n\tdone\\ \r');
  });

  it("reads a fixed-output derivation's hash fields", () => {
    const d = parseDerivation(
      'Derive([("out","/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-f","r:sha256","0123abcd")],[],[],"x86_64-linux","/bin/sh",[],[])',
    );
    expect(d.outputs).toEqual([{ name: "out", path: "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-f", hashAlgo: "r:sha256", hash: "0123abcd" }]);
    expect(d.inputDrvs.size).toBe(0);
    expect(d.args).toEqual([]);
  });

  it("keeps non-ASCII text intact", () => {
    const d = parseDerivation('Derive([],[],[],"s","/bin/sh",["héllo ✓"],[("k","ü")])');
    expect(d.args).toEqual(["héllo ✓"]);
    expect(d.env.get("k")).toBe("ü");
  });

  it.each([
    ["not a derivation", "Derivx([],[],[],\"\",\"\",[],[])"],
    ["unterminated string", 'Derive([("out","/nix/store/x'],
    ["missing comma", 'Derive([][],[],"s","b",[],[])'],
    ["trailing data", 'Derive([],[],[],"s","b",[],[])xyz'],
    ["truncated", 'Derive([],[],[],"s","b",[],['],
  ])("rejects %s", (_what, text) => {
    expect(() => parseDerivation(text)).toThrow(expect.objectContaining({ code: "invalid_argument", message: expect.stringMatching(/ at offset \d+$/) }) as AppError);
  });
});
