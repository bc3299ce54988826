import { describe, expect, it } from "vitest";
import { authorize, createAuthorizer, topicIsTenants } from "./authorize.js";

const acme = { session: 1, authid: "joe", authrole: "tenant", authextra: { tenant: "acme" } };
const panel = { session: 2, authid: "panel", authrole: "panel", authextra: {} };
const operator = { session: 3, authid: "op", authrole: "operator" };
const service = { session: 4, authid: "svc", authrole: "service" };
const allow = (d: { allow: boolean }) => d.allow;

describe("authorization table", () => {
  it("lets tenants call the API procedures, disclosing the caller (queue.status refuses them itself)", () => {
    const d = authorize(acme, "fediversity.deployment.submit", "call", {});
    expect(d).toEqual({ allow: true, disclose: true, cache: false });
    expect(allow(authorize(acme, "fediversity.build.logs", "call", {}))).toBe(true);
    expect(allow(authorize(acme, "fediversity.queue.status", "call", {}))).toBe(true);
    expect(allow(authorize(acme, "wamp.session.list", "call", {}))).toBe(false);
    expect(allow(authorize(acme, "fediversity.deployment.nope", "call", {}))).toBe(false);
  });

  it("lets tenants subscribe only to topics of their own tenant", () => {
    expect(allow(authorize(acme, "fediversity.events.acme.mastodon", "subscribe", {}))).toBe(true);
    expect(allow(authorize(acme, "fediversity.logs.acme.mastodon", "subscribe", { match: "exact" }))).toBe(true);
    expect(allow(authorize(acme, "fediversity.events.beta.mastodon", "subscribe", {}))).toBe(false);
    expect(allow(authorize(acme, "fediversity.events.acme.", "subscribe", { match: "prefix" }))).toBe(true);
    expect(allow(authorize(acme, "fediversity.events.acme.mast", "subscribe", { match: "prefix" }))).toBe(true);
    expect(allow(authorize(acme, "fediversity.events.ac", "subscribe", { match: "prefix" }))).toBe(false);
    expect(allow(authorize(acme, "fediversity.events", "subscribe", { match: "prefix" }))).toBe(false);
    expect(allow(authorize(acme, "fediversity.events.acme..x", "subscribe", {}))).toBe(false);
    expect(allow(authorize(acme, "fediversity.events.acme.", "subscribe", { match: "wildcard" }))).toBe(true);
    expect(allow(authorize(acme, "fediversity.events..mastodon", "subscribe", { match: "wildcard" }))).toBe(false);
    expect(allow(authorize(acme, "fediversity.events.acme.x.", "subscribe", { match: "wildcard" }))).toBe(false);
  });

  it("allows the bare tenant prefix only when the router matches whole segments", () => {
    expect(allow(authorize(acme, "fediversity.events.acme", "subscribe", { match: "prefix" }))).toBe(false);
    const segmentRouter = createAuthorizer({ allowBareTenantPrefix: true });
    expect(allow(segmentRouter(acme, "fediversity.events.acme", "subscribe", { match: "prefix" }))).toBe(true);
    expect(topicIsTenants("fediversity.events.acme2", "prefix", "acme", true)).toBe(false);
  });

  it("denies tenants without a tenant in authextra", () => {
    expect(allow(authorize({ authrole: "tenant", authextra: {} }, "fediversity.deployment.get", "call", {}))).toBe(false);
  });

  it("lets panel and operator use everything under fediversity.*", () => {
    expect(authorize(panel, "fediversity.deployment.submit", "call", {})).toEqual({ allow: true, disclose: true, cache: true });
    expect(allow(authorize(panel, "fediversity.events.beta", "subscribe", { match: "prefix" }))).toBe(true);
    expect(allow(authorize(panel, "fediversity.queue.status", "call", {}))).toBe(true);
    expect(allow(authorize(operator, "fediversity.queue.status", "call", {}))).toBe(true);
    expect(allow(authorize(operator, "com.other.proc", "call", {}))).toBe(false);
  });

  it("lets nobody but the service register or publish", () => {
    for (const who of [acme, panel, operator]) {
      expect(allow(authorize(who, "fediversity.deployment.submit", "register", {}))).toBe(false);
      expect(allow(authorize(who, "fediversity.events.acme.mastodon", "publish", {}))).toBe(false);
    }
    expect(allow(authorize(service, "fediversity.deployment.submit", "register", {}))).toBe(true);
    expect(allow(authorize(service, "fediversity.events.acme.mastodon", "publish", {}))).toBe(true);
    expect(allow(authorize({ authrole: "anonymous" }, "fediversity.deployment.get", "call", {}))).toBe(false);
  });
});
