import { describe, expect, it } from "vitest";
import type { BuildGraph } from "./types.js";
import { describeUndispatched } from "./undispatched.js";

const node = (drvPath: string, status: string, assignedExecutorId = "", system = "x86_64-linux") => ({ drvPath, pname: drvPath.slice(1), system, status, assignedExecutorId });

function graph(nodes: BuildGraph["nodes"], edges: [string, string][] = []): BuildGraph {
  return { nodes, edges: edges.map(([parent, child]) => ({ parent, child })), truncated: false, totalNodes: nodes.length };
}

describe("describeUndispatched", () => {
  it("names derivations that never had an executor although their inputs were built", () => {
    const g = graph(
      [node("/dep", "completed", "w1"), node("/part", "ready", "", "riscv64-linux"), node("/app", "queued"), node("/other", "running", "w2")],
      [["/part", "/dep"], ["/app", "/part"]],
    );
    expect(describeUndispatched(g)).toBe(
      "1 derivation was never started although its inputs were built: part (riscv64-linux); no rio executor took it (none builds riscv64-linux, or none was free)",
    );
  });

  it("still finds them once the build gave up (statuses then say dependency_failed)", () => {
    const g = graph([node("/a", "dependency_failed", "", "riscv64-linux"), node("/b", "dependency_failed", "", "aarch64-linux"), node("/top", "dependency_failed")], [["/top", "/a"], ["/top", "/b"]]);
    expect(describeUndispatched(g)).toMatch(/^2 derivations were never started although their inputs were built: a \(riscv64-linux\), b \(aarch64-linux\); no rio executor took them \(none builds riscv64-linux, aarch64-linux/);
  });

  it("says nothing when everything waiting was started or waits for its inputs", () => {
    expect(describeUndispatched(graph([node("/a", "running", "w1"), node("/b", "queued")], [["/b", "/a"]]))).toBeNull();
    expect(describeUndispatched(graph([node("/a", "completed")]))).toBeNull();
  });

  it("names three and counts the rest", () => {
    const g = graph(["/a", "/b", "/c", "/d", "/e"].map((p) => node(p, "ready")));
    expect(describeUndispatched(g)).toContain("a (x86_64-linux), b (x86_64-linux), c (x86_64-linux) and 2 more");
  });
});
