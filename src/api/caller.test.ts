import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { identifyCaller, requireOperator, resolveTenant, type CallerIdentity } from "./caller.js";

const tenantCaller: CallerIdentity = { session: 1, authid: "joe", authrole: "tenant", tenant: "acme" };
const panel: CallerIdentity = { session: 2, authid: "panel", authrole: "panel", tenant: null };
const operator: CallerIdentity = { session: 3, authid: "op", authrole: "operator", tenant: null };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : "not-an-app-error";
  }
  return undefined;
}

describe("caller identity", () => {
  it("takes authextra from the invocation when the router sends it", async () => {
    const c = await identifyCaller({ caller: 7, caller_authid: "joe", caller_authrole: "tenant", caller_authextra: { tenant: "acme" } });
    expect(c).toEqual({ session: 7, authid: "joe", authrole: "tenant", tenant: "acme" });
  });

  it("looks the session up when authextra is not disclosed", async () => {
    const asked: number[] = [];
    const c = await identifyCaller({ caller: 9, caller_authid: "joe", caller_authrole: "tenant" }, async (id) => {
      asked.push(id);
      return { authid: "joe", authrole: "tenant", authextra: { tenant: "beta" } };
    });
    expect(asked).toEqual([9]);
    expect(c.tenant).toBe("beta");
  });

  it("ignores a malformed tenant in authextra", async () => {
    const c = await identifyCaller({ caller: 1, caller_authid: "x", caller_authrole: "tenant", caller_authextra: { tenant: "../etc" } });
    expect(c.tenant).toBeNull();
  });

  it("refuses a call whose caller was not disclosed", async () => {
    await expect(identifyCaller({})).rejects.toMatchObject({ code: "not_authorized" });
    await expect(identifyCaller(undefined)).rejects.toMatchObject({ code: "not_authorized" });
  });
});

describe("tenant resolution", () => {
  it("lets a tenant session act for itself only", () => {
    expect(resolveTenant(tenantCaller, undefined, true)).toBe("acme");
    expect(resolveTenant(tenantCaller, "acme", true)).toBe("acme");
    expect(codeOf(() => resolveTenant(tenantCaller, "beta", true))).toBe("not_authorized");
    expect(codeOf(() => resolveTenant({ ...tenantCaller, tenant: null }, undefined, true))).toBe("not_authorized");
  });

  it("lets panel and operator name any tenant, and requires one where needed", () => {
    expect(resolveTenant(panel, "beta", true)).toBe("beta");
    expect(resolveTenant(operator, "acme", true)).toBe("acme");
    expect(codeOf(() => resolveTenant(panel, undefined, true))).toBe("invalid_argument");
    expect(resolveTenant(panel, undefined, false)).toBeNull();
  });

  it("refuses unknown roles", () => {
    expect(codeOf(() => resolveTenant({ ...panel, authrole: "anonymous" }, "acme", true))).toBe("not_authorized");
  });

  it("allows queue status for operators only", () => {
    expect(codeOf(() => requireOperator(operator))).toBeUndefined();
    expect(codeOf(() => requireOperator(panel))).toBe("not_authorized");
    expect(codeOf(() => requireOperator(tenantCaller))).toBe("not_authorized");
  });
});
