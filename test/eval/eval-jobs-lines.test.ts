// nix-eval-jobs is not installable here: its output parser runs on recorded lines that follow
// docs/nix.md, "nix-eval-jobs" (nix-eval-jobs' drv.cc to_json / worker.cc error lines).
import { describe, expect, it } from "vitest";
import { evalJobsArgs, parseEvalJobsLine } from "../../src/eval/eval-jobs.js";

const recorded = [
  '{"attr":"builtJob","attrPath":["builtJob"],"cacheStatus":"notBuilt","drvPath":"/nix/store/qv2jx2v4dfa4w7a1r3zqpzzq5d8c3mx9-job1.drv","isCached":false,"name":"job1","neededBuilds":["/nix/store/qv2jx2v4dfa4w7a1r3zqpzzq5d8c3mx9-job1.drv"],"neededSubstitutes":[],"outputs":{"out":"/nix/store/8f9drhl1v6hkzsl8bf3b1ggw41hgmy4j-job1"},"requiredSystemFeatures":["big-parallel"],"system":"x86_64-linux"}',
  '{"attr":"\\"dotted.attr\\"","attrPath":["dotted.attr"],"cacheStatus":"local","drvPath":"/nix/store/1ilxp1rn2jll1vq7asx4a5kzl1vsa5bn-dotted.drv","isCached":true,"name":"dotted","outputs":{"out":"/nix/store/5ib5cvsjkz2k3q8il6r8qvzxlzq3x4fr-dotted"},"system":"x86_64-linux"}',
  '{"attr":"substitutedJob","attrPath":["substitutedJob"],"drvPath":"/nix/store/x8lzmaxh6kzxxnxfs77svsh0z6b4hb2n-hello-2.12.drv","isCached":true,"name":"hello-2.12","outputs":{"out":"/nix/store/h0xhsccjb8pnx2k3z3k1qjd8xr6wym29-hello-2.12"},"system":"x86_64-linux"}',
  '{"attr":"recurse.drvB","attrPath":["recurse","drvB"],"drvPath":"/nix/store/n7v9z0r1h8l9z8q8m0b4a0xwvlc4zk2y-drvB.drv","name":"drvB","outputs":{"dev":"/nix/store/3s0h7lljp1l8ik8s7k4x9dh7dxw3bxmq-drvB-dev","out":null},"system":"x86_64-linux"}',
  '{"attr":"brokenPackage","attrPath":["brokenPackage"],"error":"error:\\n       … while evaluating the attribute \'brokenPackage\'\\n\\n       at /build/tests/assets/ci.nix:56:3:\\n\\n           55|\\n           56|   brokenPackage = throw \\"this is an evaluation error\\";\\n             |   ^\\n\\n       error: this is an evaluation error"}',
  '{"attr":"missing","attrPath":["missing"],"error":"error: attribute \'nope\' missing\\n\\n       at /srv/types/mastodon.nix:9:13:\\n\\n            8|   good = mk \\"good\\";\\n            9|   missing = empty.nope;\\n             |             ^"}',
];

describe("parseEvalJobsLine", () => {
  it("reads a built job with its cache status", () => {
    expect(parseEvalJobsLine(recorded[0]!)).toEqual({
      attr: "builtJob",
      attrPath: ["builtJob"],
      drvPath: "/nix/store/qv2jx2v4dfa4w7a1r3zqpzzq5d8c3mx9-job1.drv",
      outputs: { out: "/nix/store/8f9drhl1v6hkzsl8bf3b1ggw41hgmy4j-job1" },
      name: "job1",
      system: "x86_64-linux",
      cacheStatus: "notBuilt",
    });
  });

  it("keeps quoted dotted names, the deprecated isCached and floating outputs", () => {
    expect(parseEvalJobsLine(recorded[1]!)).toMatchObject({ attr: '"dotted.attr"', attrPath: ["dotted.attr"], cacheStatus: "local" });
    expect(parseEvalJobsLine(recorded[2]!)).toMatchObject({ cacheStatus: "local" });
    expect(parseEvalJobsLine(recorded[3]!)).toMatchObject({
      attr: "recurse.drvB",
      attrPath: ["recurse", "drvB"],
      outputs: { dev: "/nix/store/3s0h7lljp1l8ik8s7k4x9dh7dxw3bxmq-drvB-dev", out: null },
    });
  });

  it("turns an error line into that job's error with message, file and line", () => {
    const thrown = parseEvalJobsLine(recorded[4]!)!;
    expect(thrown.drvPath).toBeNull();
    expect(thrown.error).toMatchObject({ code: "eval_failed", message: "this is an evaluation error", attr: "brokenPackage", file: "/build/tests/assets/ci.nix", line: 56, column: 3 });
    const missing = parseEvalJobsLine(recorded[5]!)!;
    expect(missing.error).toMatchObject({ message: "attribute 'nope' missing", file: "/srv/types/mastodon.nix", line: 9, column: 13 });
  });

  it("skips our own wrapper files when locating an error", () => {
    const line = JSON.stringify({
      attr: "x",
      attrPath: ["x"],
      error: "error: boom\n\n       at /opt/fd/src/eval/entry.nix:19:46:\n\n       … while evaluating\n\n       at /srv/types/x.nix:3:7:",
    });
    expect(parseEvalJobsLine(line, ["/opt/fd/src/eval/"])!.error).toMatchObject({ file: "/srv/types/x.nix", line: 3, column: 7 });
  });

  it("ignores blank lines and rejects lines that are not jobs", () => {
    expect(parseEvalJobsLine("")).toBeNull();
    expect(() => parseEvalJobsLine("[1,2]")).toThrow();
    expect(() => parseEvalJobsLine('{"attr":"a","attrPath":["a"]}')).toThrow(/drvPath/);
    expect(() => parseEvalJobsLine("not json")).toThrow();
  });
});

describe("evalJobsArgs", () => {
  it("passes workers, memory, GC roots, cache status, recursion and arguments as data", () => {
    expect(
      evalJobsArgs({
        exprFile: "/x/entry.nix",
        argstrs: { entryJson: '{"file":"/t/m.nix"}', cfgPath: "/tmp/c.json" },
        workers: 2,
        maxMemoryMib: 1024,
        gcRootsDir: "/roots/s1",
        forceRecurse: true,
        ignoreFiles: [],
      }),
    ).toEqual([
      "--workers", "2", "--max-memory-size", "1024", "--gc-roots-dir", "/roots/s1", "--check-cache-status", "--force-recurse",
      "--argstr", "entryJson", '{"file":"/t/m.nix"}', "--argstr", "cfgPath", "/tmp/c.json", "/x/entry.nix",
    ]);
  });
});
