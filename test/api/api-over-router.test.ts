/**
 * The API registered on the real embedded router over loopback WebSocket, in front of the real
 * service (harness.ts), called by autobahn-js clients with ticket auth: results, error URIs, tenant
 * checks, topics, progressive logs. The CLI and the Python panel client are in test/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeploymentEvent, LogsResult, SubmitResult } from "../../src/core/index.js";
import { freshSalt } from "../helpers/e2e-service.js";
import { open, startApi, type ApiHarness } from "./harness.js";

/** What the e2e deployment type logs for a sync with `lines` build lines: the part's lines, the app's, then the local deployer and activation. */
const expectedLog = (lines: number) => [
  ...[...Array(lines).keys()].map((i) => `e2e line ${i}`),
  expect.stringMatching(/^e2e-app: done \(\/nix\/store\/[a-z0-9]{32}-e2e-part\)$/),
  expect.stringMatching(/^activating \/nix\/store\/[a-z0-9]{32}-e2e-app \(1\/1\) on local$/),
  "e2e activated",
];

async function callError(p: PromiseLike<unknown>): Promise<{ error: string; args: unknown[]; kwargs: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { error: string; args: unknown[]; kwargs: Record<string, unknown> };
  }
  throw new Error("expected the call to fail");
}

let harness: ApiHarness;
let url: string;

beforeAll(async () => {
  harness = await startApi();
  url = harness.url;
});

afterAll(async () => {
  await harness?.close();
});

describe("API over the embedded router", () => {
  it("submits for the caller's tenant and publishes every event in seq order", async () => {
    const joe = await open(url, "joe", "joe-secret");
    try {
      const events: DeploymentEvent[] = [];
      let finished: () => void = () => {};
      const done = new Promise<void>((r) => (finished = r));
      await joe.session.subscribe(
        "fediversity.events.acme",
        (args) => {
          const e = (args as DeploymentEvent[])[0]!;
          events.push(e);
          if (e.type === "sync.finished") finished();
        },
        { match: "prefix" },
      );
      const result = await joe.session.call<SubmitResult>("fediversity.deployment.submit", [], {
        deployment: "mastodon",
        deployment_type: "e2e",
        configuration: { salt: freshSalt(), domain: "social.acme.org" },
      });
      expect(result.sync).toMatchObject({ tenant: "acme", deployment: "mastodon", state: "queued", mode: "replace" });
      expect(result.superseded).toEqual([]);
      await done;
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.find((e) => e.type === "sync.finished")).toMatchObject({ data: { state: "succeeded" } });
      expect(events.every((e) => e.tenant === "acme" && e.deployment === "mastodon")).toBe(true);

      const replay = await joe.session.call<{ events: DeploymentEvent[]; more: boolean }>("fediversity.deployment.events", [], {
        deployment: "mastodon",
        since: 3,
      });
      expect(replay.events[0]?.seq).toBe(4);

      const logs = await joe.session.call<LogsResult>("fediversity.build.logs", [], {
        deployment: "mastodon",
        sync: result.sync.sync,
      });
      expect(logs.complete).toBe(true);
      expect(logs.lines.map((l) => l.text)).toEqual(expectedLog(3));
    } finally {
      joe.close();
    }
  });

  it("maps errors to fediversity.error.* with details, and enforces tenants inside procedures", async () => {
    const joe = await open(url, "joe", "joe-secret");
    const panel = await open(url, "panel", "panel-secret");
    try {
      const invalid = await callError(
        joe.session.call("fediversity.deployment.submit", [], { deployment: "Bad!", configuration: [], extra: 1 }),
      );
      expect(invalid.error).toBe("fediversity.error.invalid_argument");
      expect(typeof invalid.args[0]).toBe("string");
      expect(invalid.kwargs["code"]).toBe("invalid_argument");
      expect((invalid.kwargs["details"] as { path: string }[]).map((d) => d.path).sort()).toEqual([
        "configuration",
        "deployment",
        "extra",
      ]);
      const other = await callError(joe.session.call("fediversity.deployment.get", [], { deployment: "mastodon", tenant: "beta" }));
      expect(other.error).toBe("fediversity.error.not_authorized");
      const missing = await callError(joe.session.call("fediversity.deployment.get", [], { deployment: "nothing_here" }));
      expect(missing).toMatchObject({ error: "fediversity.error.not_found", kwargs: { code: "not_found" } });
      // (fediversity.error.conflict only answers a lost race inside the store; its mapping is unit-tested in wamp-errors.test.ts.)
      const queue = await callError(panel.session.call("fediversity.queue.status", [], {}));
      expect(queue.error).toMatch(/not_authorized/);
      const big = await callError(
        panel.session.call("fediversity.deployment.submit", [], {
          deployment: "big",
          tenant: "acme",
          deployment_type: "e2e",
          configuration: { salt: freshSalt(), padding: "x".repeat(300 * 1024) },
        }),
      );
      expect(big.error).toBe("fediversity.error.resource_exhausted");
      const registered = await callError(joe.session.register("fediversity.deployment.submit", () => 1));
      expect(registered.error).toBe("wamp.error.not_authorized");
    } finally {
      joe.close();
      panel.close();
    }
  });

  it("lets a tenant subscribe only to its own tenant's topics", async () => {
    const ann = await open(url, "ann", "ann-secret");
    try {
      await expect(ann.session.subscribe("fediversity.events.acme.mastodon", () => {})).rejects.toMatchObject({
        error: "wamp.error.not_authorized",
      });
      await expect(ann.session.subscribe("fediversity.events.acme2.", () => {}, { match: "prefix" })).resolves.toBeDefined();
    } finally {
      ann.close();
    }
  });

  it("streams build.logs with follow as progressive results", async () => {
    const panel = await open(url, "panel", "panel-secret");
    try {
      const submitted = await panel.session.call<SubmitResult>("fediversity.deployment.submit", [], {
        deployment: "pixelfed",
        tenant: "acme",
        deployment_type: "e2e",
        configuration: { salt: freshSalt(), lines: 5 },
      });
      const progress: LogsResult[] = [];
      const final = await new Promise<LogsResult>((resolve, reject) => {
        (
          panel.session.call("fediversity.build.logs", [], { deployment: "pixelfed", tenant: "acme", sync: submitted.sync.sync, follow: true }, {
            receive_progress: true,
          }) as unknown as { then(a: (r: unknown) => void, b: (e: unknown) => void, c: (p: unknown) => void): void }
        ).then(
          (r) => resolve(r as LogsResult),
          reject,
          (p) => progress.push(p as LogsResult),
        );
      });
      expect(final.complete).toBe(true);
      const texts = [...progress.flatMap((p) => p.lines), ...final.lines].map((l) => l.text);
      expect(texts).toEqual(expectedLog(5));
      expect(progress.length).toBeGreaterThan(0);
    } finally {
      panel.close();
    }
  });

  it("ends a follow call when its caller leaves", async () => {
    const panel = await open(url, "panel", "panel-secret");
    // The build prints its lines, then sleeps: the sync stays building while the follow runs.
    const submitted = await panel.session.call<SubmitResult>("fediversity.deployment.submit", [], {
      deployment: "held",
      tenant: "acme",
      deployment_type: "e2e",
      configuration: { salt: freshSalt(), build_sleep_secs: 120 },
    });
    await new Promise<void>((resolve) => {
      (
        panel.session.call("fediversity.build.logs", [], { deployment: "held", tenant: "acme", sync: submitted.sync.sync, follow: true }, {
          receive_progress: true,
        }) as unknown as { then(a: () => void, b: () => void, c: () => void): void }
      ).then(
        () => {},
        () => {},
        () => resolve(),
      );
    });
    expect(await harness.logFollows()).toBe(1);
    panel.close();
    for (let i = 0; i < 50 && (await harness.logFollows()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await harness.logFollows()).toBe(0);
  });
});
