import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import {
  checkConfigurationSize,
  eventsKwargs,
  historyKwargs,
  syncGetKwargs,
  webhookCreateKwargs,
  webhookDeleteKwargs,
  webhookDeliveriesKwargs,
  listKwargs,
  logsKwargs,
  parseKwargs,
  submitKwargs,
} from "./schemas.js";

function problems(fn: () => unknown): { code: string; details: readonly { path: string; message: string }[] } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, details: err.details ?? [] };
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("procedure schemas", () => {
  it("accepts a minimal submit", () => {
    const k = parseKwargs(submitKwargs, [], { deployment: "mastodon", configuration: { domain: "x.org" } });
    expect(k).toEqual({ deployment: "mastodon", configuration: { domain: "x.org" } });
  });

  it("accepts missing kwargs as an empty object", () => {
    expect(parseKwargs(listKwargs, undefined, undefined)).toEqual({});
  });

  it("reports each problem with its path, and every unknown keyword by name", () => {
    const p = problems(() =>
      parseKwargs(submitKwargs, [], {
        deployment: "Mastodon!",
        configuration: [1, 2],
        mode: "later",
        request_id: "x".repeat(129),
        colour: "blue",
        size: 3,
      }),
    );
    expect(p.code).toBe("invalid_argument");
    const paths = p.details.map((d) => d.path).sort();
    expect(paths).toEqual(["colour", "configuration", "deployment", "mode", "request_id", "size"]);
    expect(p.details.find((d) => d.path === "colour")?.message).toBe("unknown keyword argument");
  });

  it("rejects positional arguments", () => {
    const p = problems(() => parseKwargs(listKwargs, ["acme"], {}));
    expect(p.details[0]?.message).toMatch(/positional/);
  });

  it("checks tenant and deployment patterns", () => {
    expect(() => parseKwargs(submitKwargs, [], { deployment: "a-b", configuration: {} })).toThrow(AppError);
    expect(() => parseKwargs(submitKwargs, [], { deployment: "a_b", configuration: {}, tenant: "acme-corp" })).not.toThrow();
    expect(() => parseKwargs(submitKwargs, [], { deployment: "ab", configuration: {}, tenant: "-acme" })).toThrow(AppError);
    expect(() => parseKwargs(submitKwargs, [], { deployment: "a".repeat(64), configuration: {} })).toThrow(AppError);
  });

  it("enforces limit ranges and integer counters", () => {
    expect(problems(() => parseKwargs(listKwargs, [], { limit: 501 })).details[0]?.path).toBe("limit");
    expect(problems(() => parseKwargs(listKwargs, [], { limit: 0 })).details[0]?.path).toBe("limit");
    expect(parseKwargs(listKwargs, [], { limit: 500 })).toEqual({ limit: 500 });
    expect(problems(() => parseKwargs(eventsKwargs, [], { deployment: "m", since: 1.5 })).details[0]?.path).toBe("since");
    expect(problems(() => parseKwargs(eventsKwargs, [], { deployment: "m", limit: 1001 })).details[0]?.path).toBe("limit");
    expect(problems(() => parseKwargs(logsKwargs, [], { deployment: "m", sync: "01J", limit: 10_001 })).details[0]?.path).toBe(
      "limit",
    );
    expect(problems(() => parseKwargs(logsKwargs, [], { deployment: "m" })).details[0]?.path).toBe("sync");
  });

  it("refuses an oversized configuration with resource_exhausted", () => {
    expect(() => checkConfigurationSize({ a: "x".repeat(100) }, 1024)).not.toThrow();
    const err = (() => {
      try {
        checkConfigurationSize({ a: "x".repeat(2000) }, 1024);
      } catch (e) {
        return e;
      }
    })();
    expect(AppError.is(err, "resource_exhausted")).toBe(true);
    expect((err as AppError).details?.[0]?.path).toBe("configuration");
  });
});

describe("v1.1 procedure schemas", () => {
  it("history takes a sync state and a kind, and limits up to 500", () => {
    expect(parseKwargs(historyKwargs, [], { deployment: "m", state: "timed_out", kind: "teardown", limit: 500 })).toEqual({
      deployment: "m",
      state: "timed_out",
      kind: "teardown",
      limit: 500,
    });
    const p = problems(() => parseKwargs(historyKwargs, [], { deployment: "m", state: "done", kind: "rollback", limit: 501 }));
    expect(p.code).toBe("invalid_argument");
    expect(p.details.map((d) => d.path).sort()).toEqual(["kind", "limit", "state"]);
  });

  it("sync.get needs a sync id", () => {
    expect(problems(() => parseKwargs(syncGetKwargs, [], { sync: "../etc" })).details).toEqual([{ path: "sync", message: "must be a sync id (ULID or UUID)" }]);
    expect(problems(() => parseKwargs(syncGetKwargs, [], {})).details.map((d) => d.path)).toEqual(["sync"]);
  });

  it("webhook.create takes known event types, each once, a deployment id and a short description", () => {
    expect(parseKwargs(webhookCreateKwargs, [], { url: "https://panel.example/hook" })).toEqual({ url: "https://panel.example/hook" });
    const p = problems(() =>
      parseKwargs(webhookCreateKwargs, [], {
        url: "x".repeat(2049),
        events: ["sync.finished", "sync.finished", "sync.exploded"],
        deployment: "Not Valid",
        description: "d".repeat(1025),
        secret: "mine",
      }),
    );
    expect(p.details.map((d) => d.path).sort()).toEqual(["deployment", "description", "events.2", "secret", "url"]);
    expect(problems(() => parseKwargs(webhookCreateKwargs, [], { url: "https://x.example/", events: ["sync.finished", "sync.finished"] })).details).toEqual([
      { path: "events", message: "must not name an event type twice" },
    ]);
    expect(problems(() => parseKwargs(webhookCreateKwargs, [], { url: "https://x.example/", events: [] })).details).toEqual([
      { path: "events", message: "must name at least one event type" },
    ]);
  });

  it("webhook.delete and webhook.deliveries need a webhook id", () => {
    expect(problems(() => parseKwargs(webhookDeleteKwargs, [], {})).details.map((d) => d.path)).toEqual(["webhook"]);
    expect(problems(() => parseKwargs(webhookDeliveriesKwargs, [], { webhook: "01J", limit: 0 })).details.map((d) => d.path)).toEqual(["limit"]);
  });
});
