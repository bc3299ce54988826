/**
 * The API edge hands the configuration on exactly as received and refuses hostile shapes itself
 * (issue 11 §4.2–3): an own `__proto__` key is neither dropped by the kwargs schema nor obeyed;
 * unknown keyword arguments named `__proto__`/`constructor`/`prototype` are refused with their path;
 * nesting past the limit is refused, naming it, before anything recursive (JSON size, schema, hash)
 * touches the value — whichever router delivered it.
 */
import { describe, expect, it } from "vitest";
import { defaultLimits } from "../core/index.js";
import type { CallerIdentity } from "./caller.js";
import type { DeploymentService, PlanInput, SubmitInput } from "../service/port.js";
import { apiProcedures, type ProcedureContext } from "./procedures.js";

/** The port behind the edge, recording what reached it; every other method is not part of these tests. */
function recordingService() {
  const submitted: SubmitInput[] = [];
  const planned: PlanInput[] = [];
  const notUsed = async (): Promise<never> => {
    throw new Error("not used in this test");
  };
  const service: DeploymentService = {
    async submit(input) {
      submitted.push(input);
      return { sync: {} as never, superseded: [] };
    },
    async plan(input) {
      planned.push(input);
      return { derivations: 0, to_build: 0, cached: 0, nodes: [] };
    },
    get: notUsed,
    list: notUsed,
    cancel: notUsed,
    delete: notUsed,
    rollback: notUsed,
    events: notUsed,
    logs: notUsed,
    followLogs: notUsed as unknown as DeploymentService["followLogs"],
    graph: notUsed,
    schema: notUsed,
    queueStatus: notUsed,
    syncGet: notUsed,
    history: notUsed,
    createWebhook: notUsed,
    listWebhooks: notUsed,
    deleteWebhook: notUsed,
    webhookDeliveries: notUsed,
  };
  return { service, submitted, planned };
}

const acme: CallerIdentity = { session: 1, authid: "joe", authrole: "tenant", tenant: "acme" };
const ctx = (service: DeploymentService): ProcedureContext => ({ service, caller: acme, limits: {}, progress: null, signal: new AbortController().signal });
const call = (uri: string, service: DeploymentService, kwargs: unknown) => {
  const spec = apiProcedures.find((p) => p.uri === uri);
  if (!spec) throw new Error(uri);
  return spec.handle(ctx(service), [], kwargs);
};

describe("configuration keys named like Object.prototype members", () => {
  it("reach the service as own keys, top level and nested (the type's schema decides about them)", async () => {
    const f = recordingService();
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":1},"prototype":2,"nested":{"__proto__":[{"__proto__":3}]}}';
    await call("fediversity.deployment.submit", f.service, { deployment: "m", configuration: JSON.parse(text) });
    await call("fediversity.deployment.plan", f.service, { deployment: "m", configuration: JSON.parse(text) });
    for (const got of [f.submitted[0]?.configuration, f.planned[0]?.configuration]) {
      expect(Object.keys(got as object).sort()).toEqual(["__proto__", "constructor", "nested", "prototype"]);
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(JSON.stringify(got)).toBe(text);
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("as keyword arguments are refused like any unknown keyword, with their path", async () => {
    const f = recordingService();
    for (const key of ["__proto__", "constructor", "prototype"]) {
      const kwargs = JSON.parse(`{"deployment":"m","configuration":{},"${key}":{"tenant":"beta"}}`) as unknown;
      await expect(call("fediversity.deployment.submit", f.service, kwargs)).rejects.toMatchObject({
        code: "invalid_argument",
        details: [{ path: key, message: "unknown keyword argument" }],
      });
    }
    expect(f.submitted).toEqual([]);
  });

  it("a configuration that is not a plain object (a Map, an array, a class instance) is refused", async () => {
    const f = recordingService();
    for (const configuration of [new Map([["__proto__", 1]]), [1], new Date(0)]) {
      await expect(call("fediversity.deployment.submit", f.service, { deployment: "m", configuration })).rejects.toMatchObject({
        code: "invalid_argument",
        details: [{ path: "configuration", message: "must be an object" }],
      });
    }
    expect(f.submitted).toEqual([]);
  });
});

describe("configuration nesting limit at the edge", () => {
  const limit = defaultLimits.maxConfigurationDepth;
  function nested(levels: number): Record<string, unknown> {
    let v: unknown = 1;
    for (let i = 1; i < levels; i++) v = i % 2 === 0 ? [v] : { d: v };
    return { d: v };
  }

  for (const uri of ["fediversity.deployment.submit", "fediversity.deployment.plan"]) {
    it(`${uri}: ${limit} levels pass; ${limit + 1}, 12,000 and 200,000 get invalid_argument naming the limit`, async () => {
      const f = recordingService();
      await call(uri, f.service, { deployment: "m", configuration: nested(limit) });
      for (const levels of [limit + 1, 12_000, 200_000]) {
        await expect(call(uri, f.service, { deployment: "m", configuration: nested(levels) }), `${levels} levels`).rejects.toMatchObject({
          code: "invalid_argument",
          message: `configuration is nested too deeply (limit: ${limit} levels)`,
          details: [{ path: "configuration", message: `must not nest deeper than ${limit} levels` }],
        });
      }
      expect(f.submitted.length + f.planned.length).toBe(1);
    });
  }
});
