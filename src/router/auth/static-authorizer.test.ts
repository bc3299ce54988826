import { describe, expect, it } from "vitest";
import { createStaticAuthorizer, fediversityAuthorizationRules } from "./static-authorizer.js";

const tenant = (t: unknown) => ({ session: 1, authid: "x", authrole: "tenant", authextra: { tenant: t } });

describe("static authorizer", () => {
  const segment = createStaticAuthorizer(fediversityAuthorizationRules(), { prefixMode: "segment" });
  const spec = createStaticAuthorizer(fediversityAuthorizationRules(), { prefixMode: "string" });

  it("confines a tenant to its own topics and to calls", () => {
    expect(segment(tenant("acme"), "fediversity.events.acme", "subscribe", { match: "prefix" })).toBe(true);
    expect(segment(tenant("acme"), "fediversity.events.acme.m", "subscribe", {})).toBe(true);
    expect(segment(tenant("acme"), "fediversity.events.acme-corp", "subscribe", { match: "prefix" })).toBe(false);
    expect(segment(tenant("acme"), "fediversity.events.beta.m", "subscribe", {})).toBe(false);
    expect(segment(tenant("acme"), "fediversity.events.acme.m", "publish", {})).toBe(false);
    expect(segment(tenant("acme"), "fediversity.deployment.get", "register", {})).toBe(false);
    expect(segment(tenant("acme"), "fediversity.deployment.get", "call", {})).toEqual({ allow: true, disclose: true, cache: false });
    expect(segment(tenant(undefined), "fediversity.events.undefined", "subscribe", {})).toBe(false);
    expect(segment(tenant("a.b"), "fediversity.events.a.b", "subscribe", {})).toBe(false);
  });

  it("refuses an ambiguous prefix subscription under string prefix matching", () => {
    expect(spec(tenant("acme"), "fediversity.events.acme", "subscribe", { match: "prefix" })).toBe(false);
    expect(spec(tenant("acme"), "fediversity.events.acme.", "subscribe", { match: "prefix" })).toBe(true);
    expect(spec(tenant("acme"), "fediversity.events.acme", "subscribe", {})).toBe(true);
  });

  it("gives operator and panel everything under the prefixes, nothing outside", () => {
    const op = { authrole: "operator", authid: "o", authextra: {} };
    expect(segment(op, "fediversity.anything", "register", {})).toEqual({ allow: true, disclose: true, cache: false });
    expect(segment(op, "fediversityx", "call", {})).toBe(false);
    expect(segment(op, "wamp.session.list", "call", {})).toBe(false);
  });
});
