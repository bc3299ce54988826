import { describe, expect, it } from "vitest";
import { createUriTable, prefixMatches, wildcardMatches } from "./uri-table.js";

describe("UriTable", () => {
  it("picks exact, then the longest prefix, then the most specific wildcard", () => {
    const t = createUriTable<string>("string");
    t.set("a.b.c", "exact", "exact");
    t.set("a", "prefix", "short");
    t.set("a.b", "prefix", "long");
    t.set("a..c", "wildcard", "wild1");
    t.set("..c", "wildcard", "wild2");
    expect(t.best("a.b.c")).toBe("exact");
    expect(t.best("a.b.x")).toBe("long");
    expect(t.best("a.x")).toBe("short");
    expect(t.best("z.q.c")).toBe("wild2");
    expect(t.best("z.q.d")).toBeUndefined();
    t.delete("a", "prefix");
    t.set("x..c", "wildcard", "wild3");
    expect(t.best("x.q.c")).toBe("wild3");
    expect(t.all("a.b.c", []).sort()).toEqual(["exact", "long", "wild1", "wild2"]);
  });

  it("matches prefixes by string or by URI component", () => {
    expect(prefixMatches("a.bc", "a.b", "string")).toBe(true);
    expect(prefixMatches("a.bc", "a.b", "segment")).toBe(false);
    expect(prefixMatches("a.b.c", "a.b", "segment")).toBe(true);
    expect(prefixMatches("a.b", "a.b", "segment")).toBe(true);
    expect(prefixMatches("a.bc", "a.", "segment")).toBe(true);
    expect(wildcardMatches(["a", "b"], ["", "b"])).toBe(true);
    expect(wildcardMatches(["a", "b", "c"], ["", "b"])).toBe(false);
  });
});
