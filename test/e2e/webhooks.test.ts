/**
 * Webhooks over WAMP against the real service (real builds, the delivery loop, real HTTP receivers
 * on loopback, allowed by the operator's flag): create/list/delete/deliveries with the contract's
 * shapes; the secret only in create's answer; signed deliveries of the event exactly as stored and
 * published, with event-type and deployment filters; a receiver that fails then recovers; the
 * per-tenant limit; isolation of every webhook procedure between tenants; URLs refused by a
 * service without the flag; examples/webhook_receiver.py fed by the service; the CLI.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/index.js";
import type { DeliveriesResult, SyncView, WebhookCreateResult, WebhookListResult } from "../../src/core/index.js";
import { parseServiceConfig } from "../../src/config.js";
import { startService, type RunningService } from "../../src/main.js";
import { verifySignature } from "../../src/webhooks/index.js";
import {
  allEvents,
  connectWamp,
  freshSalt,
  makeE2eDir,
  repoRoot,
  serviceArgs,
  until,
  waitForSync,
  type E2eDir,
  type Principal,
  type Wamp,
} from "../helpers/e2e-service.js";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver.js";

const fastRetries = { FEDIVERSITY_WEBHOOK_RETRY_FIRST_MS: "200", FEDIVERSITY_WEBHOOK_RETRY_MAX_MS: "800", FEDIVERSITY_WEBHOOK_RETRY_FOR_MS: "20000", FEDIVERSITY_WEBHOOK_TIMEOUT_MS: "5000" };

let dir: E2eDir;
let service: RunningService;
let receiver: Receiver;
let acme: Wamp;
let beta: Wamp;
let panel: Wamp;
let operator: Wamp;

beforeAll(async () => {
  dir = await makeE2eDir();
  service = await startService(parseServiceConfig(serviceArgs(dir, ["--webhook-allow-private"]), fastRetries));
  receiver = await startReceiver();
  [acme, beta, panel, operator] = await Promise.all([
    connectWamp(service.url, dir.principals.acme),
    connectWamp(service.url, dir.principals.beta),
    connectWamp(service.url, dir.principals.panel),
    connectWamp(service.url, dir.principals.operator),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([acme, beta, panel, operator].map((w) => w?.close()));
  await service?.stop();
  await receiver?.close();
  await dir?.remove();
});

const submit = (w: Wamp, deployment: string, configuration: Record<string, unknown> = {}, more: Record<string, unknown> = {}) =>
  w.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment, deployment_type: "e2e", configuration: { salt: freshSalt(), ...configuration }, ...more });

const create = (w: Wamp, kwargs: Record<string, unknown>) => w.call<WebhookCreateResult>("fediversity.webhook.create", kwargs);
const deliveries = (w: Wamp, webhook: string, more: Record<string, unknown> = {}) => w.call<DeliveriesResult>("fediversity.webhook.deliveries", { webhook, ...more });
const requestsFor = (r: Receiver, path: string) => r.requests.filter((q) => q.path === path);

describe("webhooks", () => {
  it("delivers signed events exactly as stored, filtered by type and deployment; the secret is shown once", { timeout: 120_000 }, async () => {
    const finished = await create(acme, { url: `${receiver.url}/finished`, description: "panel: sync done" });
    expect(finished.secret).toMatch(/^whsec_/);
    expect(finished.webhook).toEqual({
      webhook: expect.any(String),
      tenant: "acme",
      url: `${receiver.url}/finished`,
      events: ["sync.finished"],
      deployment: null,
      description: "panel: sync done",
      created_at: expect.any(String),
      last_delivery_at: null,
      failing_since: null,
    });
    const onlyOne = await create(acme, { url: `${receiver.url}/one`, events: ["sync.queued", "deployment.state"], deployment: "hook_b" });

    const a = await submit(acme, "hook_a");
    const b = await submit(acme, "hook_b");
    await waitForSync(acme, "hook_a", a.sync.sync);
    await waitForSync(acme, "hook_b", b.sync.sync);
    const eventsA = await allEvents(acme, "hook_a");
    const eventsB = await allEvents(acme, "hook_b");
    const wantFinished = [...eventsA, ...eventsB].filter((e) => e.type === "sync.finished");
    const wantOne = eventsB.filter((e) => e.type === "sync.queued" || e.type === "deployment.state");
    await until(() => requestsFor(receiver, "/hook/finished").length >= wantFinished.length && requestsFor(receiver, "/hook/one").length >= wantOne.length, "deliveries");

    for (const [path, want, secret] of [["/hook/finished", wantFinished, finished.secret], ["/hook/one", wantOne, onlyOne.secret]] as const) {
      // At least once: a repeat (same delivery id) is possible after a late answer; count each delivery once.
      const got = [...new Map(requestsFor(receiver, path).map((r) => [r.headers["x-fediversity-delivery"], r])).values()];
      // The body is the stored (and published) event, byte for byte as JSON; sorted per deployment by seq.
      expect(got.map((r) => r.body).sort()).toEqual(want.map((e) => JSON.stringify(e)).sort());
      for (const r of got) {
        expect(r.headers["content-type"]).toBe("application/json");
        expect(r.headers["x-fediversity-event"]).toBe(JSON.parse(r.body).type);
        expect(verifySignature(secret, r.body, r.headers["x-fediversity-signature"] as string)).toBe(true);
      }
    }
    await until(async () => (await deliveries(acme, finished.webhook.webhook)).deliveries.every((d) => d.state === "delivered"), "recorded as delivered");
    const page = await deliveries(acme, finished.webhook.webhook);
    expect(page.deliveries.map((d) => [d.deployment, d.event_seq, d.type, d.state, d.last_status, d.last_error, d.next_attempt_at]).sort()).toEqual(
      wantFinished.map((e) => [e.deployment, e.seq, "sync.finished", "delivered", 200, null, null]).sort(),
    );
    expect(new Set(page.deliveries.map((d) => d.delivery))).toEqual(new Set(requestsFor(receiver, "/hook/finished").map((r) => r.headers["x-fediversity-delivery"])));

    // Never again: not in list (tenant or panel), deliveries, events.
    const list = await acme.call<WebhookListResult>("fediversity.webhook.list", {});
    expect(list.webhooks.map((w) => w.webhook)).toEqual([finished.webhook.webhook, onlyOne.webhook.webhook]);
    expect(list.webhooks[0]?.last_delivery_at).not.toBeNull();
    const seen = JSON.stringify([list, await panel.call("fediversity.webhook.list", { tenant: "acme" }), page, eventsA, eventsB]);
    for (const secret of [finished.secret, onlyOne.secret]) expect(seen).not.toContain(secret.slice(6));
  });

  it("retries a failing receiver and records the recovery", { timeout: 90_000 }, async () => {
    const flaky = await startReceiver();
    try {
      let calls = 0;
      flaky.answer = () => (++calls <= 2 ? { kind: "status", status: 503 } : { kind: "status", status: 204 });
      const hook = await create(acme, { url: flaky.url, events: ["sync.queued"], deployment: "flaky" });
      await submit(acme, "flaky", { build_sleep_secs: 30 });
      await flaky.waitFor(3, 30_000);
      await until(async () => (await deliveries(acme, hook.webhook.webhook)).deliveries[0]?.state === "delivered", "delivered after retries");
      const [d] = (await deliveries(acme, hook.webhook.webhook)).deliveries;
      expect(d).toMatchObject({ state: "delivered", attempts: 3, last_status: 204, last_error: null, next_attempt_at: null });
      expect(new Set(flaky.requests.map((r) => r.headers["x-fediversity-delivery"]))).toEqual(new Set([d?.delivery]));
      // The retries waited: ≥ 200 ms, then ≥ 400 ms (jitter only adds).
      const at = flaky.requests.map((r) => r.at);
      expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(190);
      expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(390);
      const view = (await acme.call<WebhookListResult>("fediversity.webhook.list", {})).webhooks.find((w) => w.webhook === hook.webhook.webhook);
      expect(view).toMatchObject({ failing_since: null });
      expect(view?.last_delivery_at).not.toBeNull();
      await acme.call("fediversity.deployment.cancel", { deployment: "flaky" });
    } finally {
      await flaky.close();
    }
  });

  it("gives up on a receiver that keeps redirecting: growing delays, then failed, and the webhook says since when it fails", { timeout: 90_000 }, async () => {
    const doomed = await startReceiver();
    try {
      doomed.answer = () => ({ kind: "redirect", status: 302, location: receiver.url });
      const before = receiver.requests.length;
      const hook = await create(acme, { url: doomed.url, events: ["sync.queued"], deployment: "doomed" });
      await submit(acme, "doomed", { build_sleep_secs: 60 });
      await until(async () => (await deliveries(acme, hook.webhook.webhook)).deliveries[0]?.state === "failed", "given up", 60_000);
      const [d] = (await deliveries(acme, hook.webhook.webhook)).deliveries;
      expect(d).toMatchObject({ state: "failed", last_status: 302, last_error: "redirect (HTTP 302) not followed", next_attempt_at: null });
      expect(d?.attempts).toBe(doomed.requests.length);
      expect(d?.attempts).toBeGreaterThanOrEqual(10); // 20 s of retries at most 0.8 s apart
      // 200 ms doubling to 800 ms (jitter only adds): the gaps grow, then stay at the cap.
      const at = doomed.requests.map((r) => r.at);
      const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
      expect(gaps[0]).toBeGreaterThanOrEqual(190);
      expect(gaps[1]).toBeGreaterThanOrEqual(390);
      for (const g of gaps.slice(2)) expect(g).toBeGreaterThanOrEqual(790);
      // The redirect target never heard of it.
      expect(receiver.requests.slice(before).filter((r) => r.headers["x-fediversity-delivery"] === d?.delivery)).toEqual([]);
      const view = (await acme.call<WebhookListResult>("fediversity.webhook.list", {})).webhooks.find((w) => w.webhook === hook.webhook.webhook);
      expect(view?.failing_since).not.toBeNull();
      expect(view?.last_delivery_at).toBeNull();
      await acme.call("fediversity.deployment.cancel", { deployment: "doomed" });
    } finally {
      await doomed.close();
    }
  });

  it("isolates tenants in every webhook procedure; panel and operator act for a named tenant", async () => {
    const hook = await create(acme, { url: `${receiver.url}/iso`, deployment: "iso" });
    const id = hook.webhook.webhook;
    const code = async (w: Wamp, uri: string, kwargs: Record<string, unknown>) => (await w.fail(`fediversity.webhook.${uri}`, kwargs)).error;
    // Another tenant: the webhook does not exist for it, and naming the owner is refused.
    expect(await code(beta, "delete", { webhook: id })).toBe("fediversity.error.not_found");
    expect(await code(beta, "deliveries", { webhook: id })).toBe("fediversity.error.not_found");
    expect((await beta.call<WebhookListResult>("fediversity.webhook.list", {})).webhooks.map((w) => w.webhook)).not.toContain(id);
    for (const [uri, kwargs] of [["list", {}], ["delete", { webhook: id }], ["deliveries", { webhook: id }], ["create", { url: receiver.url }]] as const) {
      expect(await code(beta, uri, { ...kwargs, tenant: "acme" }), uri).toBe("fediversity.error.not_authorized");
      expect(await code(panel, uri, kwargs), uri).toBe("fediversity.error.invalid_argument");
    }
    // Unknown and foreign ids answer the same words.
    const unknown = await beta.fail("fediversity.webhook.delete", { webhook: "01JZZZZZZZZZZZZZZZZZZZZZZZ" });
    const foreign = await beta.fail("fediversity.webhook.delete", { webhook: id });
    expect(String(foreign.args[0]).replace(id, "X")).toBe(String(unknown.args[0]).replace("01JZZZZZZZZZZZZZZZZZZZZZZZ", "X"));
    // beta's own deployment named like acme's triggers nothing of acme's.
    const before = requestsFor(receiver, "/hook/iso").length;
    const s = await submit(beta, "iso");
    await waitForSync(beta, "iso", s.sync.sync);
    expect(requestsFor(receiver, "/hook/iso").length).toBe(before);
    expect((await deliveries(acme, id)).deliveries).toEqual([]);
    // Panel and operator for acme.
    expect((await panel.call<WebhookListResult>("fediversity.webhook.list", { tenant: "acme" })).webhooks.map((w) => w.webhook)).toContain(id);
    expect((await operator.call<DeliveriesResult>("fediversity.webhook.deliveries", { webhook: id, tenant: "acme" })).deliveries).toEqual([]);
    expect(await code(operator, "deliveries", { webhook: id, tenant: "beta" })).toBe("fediversity.error.not_found");
    expect(await panel.call("fediversity.webhook.delete", { webhook: id, tenant: "acme" })).toEqual({ deleted: true });
    expect(await code(acme, "delete", { webhook: id })).toBe("fediversity.error.not_found");
  });

  it("allows 20 webhooks per tenant", async () => {
    const existing = (await beta.call<WebhookListResult>("fediversity.webhook.list", {})).webhooks.length;
    for (let i = existing; i < 20; i++) await create(beta, { url: `${receiver.url}/limit${i}`, deployment: "nothing_here" });
    const over = await beta.fail("fediversity.webhook.create", { url: `${receiver.url}/limit21` });
    expect(over.error).toBe("fediversity.error.resource_exhausted");
    expect(String(over.args[0])).toContain("20");
    // Another tenant is not affected.
    const other = await panel.call<WebhookCreateResult>("fediversity.webhook.create", { tenant: "gamma", url: `${receiver.url}/gamma` });
    expect(other.webhook.tenant).toBe("gamma");
  });

  it("refuses bad webhook arguments with their paths", async () => {
    const bad = await acme.fail("fediversity.webhook.create", { url: "ftp://example.org/x", events: ["sync.finished", "nope"], deployment: "Bad Name" });
    expect(bad.error).toBe("fediversity.error.invalid_argument");
    expect((bad.kwargs["details"] as { path: string }[]).map((d) => d.path).sort()).toEqual(["deployment", "events.1"]);
    const scheme = await acme.fail("fediversity.webhook.create", { url: "ftp://example.org/x" });
    expect(scheme.kwargs["details"]).toEqual([{ path: "url", message: "scheme ftp is not allowed (http or https only)" }]);
    const creds = await acme.fail("fediversity.webhook.create", { url: `http://user:pw@127.0.0.1:${receiver.port}/` });
    expect(JSON.stringify(creds)).not.toContain("pw@");
    expect(creds.kwargs["details"]).toEqual([{ path: "url", message: "credentials in the URL are not allowed" }]);
  });
});

describe("webhook URLs on a service without the operator's flag", () => {
  it("refuses loopback, private, link-local and unspecified targets, by literal and by name", { timeout: 90_000 }, async () => {
    const strictDir = await makeE2eDir();
    const strict = await startService(parseServiceConfig(serviceArgs(strictDir), {}));
    const w = await connectWamp(strict.url, strictDir.principals.acme);
    try {
      const cases: [string, RegExp][] = [
        [`http://127.0.0.1:${receiver.port}/hook`, /127\.0\.0\.1 is a loopback address/],
        ["http://localhost:8000/hook", /localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
        ["http://[::ffff:127.0.0.1]/hook", /loopback address/],
        ["http://10.1.2.3/hook", /10\.1\.2\.3 is a private address/],
        ["http://192.168.0.10/hook", /private address/],
        ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a link-local address/],
        ["http://[fd00::5]/hook", /private address/],
        ["http://0.0.0.0:8080/hook", /unspecified address/],
      ];
      for (const [url, why] of cases) {
        const r = await w.fail("fediversity.webhook.create", { url });
        expect(r.error, url).toBe("fediversity.error.invalid_argument");
        const [detail] = r.kwargs["details"] as { path: string; message: string }[];
        expect(detail?.path, url).toBe("url");
        expect(detail?.message, url).toMatch(why);
      }
      expect((await w.call<WebhookListResult>("fediversity.webhook.list", {})).webhooks).toEqual([]);
    } finally {
      await w.close();
      await strict.stop();
      await strictDir.remove();
    }
  });
});

describe("examples/webhook_receiver.py fed by the service", () => {
  it("verifies and handles each finished sync once", { timeout: 120_000 }, async () => {
    // The receiver needs the secret at start, and the webhook its port: start it on a free port first.
    const py = await startPython();
    try {
      const real = await create(acme, { url: py.url, deployment: "py_hook", events: ["sync.finished"] });
      await py.restartWith(real.secret);
      const s1 = await submit(acme, "py_hook");
      await waitForSync(acme, "py_hook", s1.sync.sync);
      const s2 = await submit(acme, "py_hook", { fail_build: true });
      await waitForSync(acme, "py_hook", s2.sync.sync);
      await until(() => py.handled.length >= 2, "two handled deliveries", 30_000);
      expect(py.handled.map((h) => [h.event["sync"], (h.event["data"] as { state: string }).state])).toEqual([
        [s1.sync.sync, "succeeded"],
        [s2.sync.sync, "failed"],
      ]);
      const ds = await deliveries(acme, real.webhook.webhook);
      expect(ds.deliveries.map((d) => [d.state, d.last_status])).toEqual([["delivered", 200], ["delivered", 200]]);
      expect(py.output()).not.toContain(real.secret);
    } finally {
      await py.stop();
    }
  });
});

describe("the CLI's webhooks command", () => {
  it("creates (printing the secret once), lists, shows deliveries and deletes", { timeout: 60_000 }, async () => {
    const cli = (who: Principal) => {
      const io = {
        out: "",
        err: "",
        stdout: { write: (t: string) => (io.out += t) },
        stderr: { write: (t: string) => (io.err += t) },
        env: { FEDIVERSITY_URL: service.url, FEDIVERSITY_AUTHID: who.authid, FEDIVERSITY_TICKET: who.ticket },
        readFile: (path: string) => readFile(path, "utf8"),
      };
      return { io, run: async (args: string[]) => ((io.out = ""), (io.err = ""), runCli(args, io)) };
    };
    const a = cli(dir.principals.acme);
    expect(await a.run(["webhooks", "create", `${receiver.url}/cli`, "--events", "sync.queued, sync.finished", "--deployment", "cli_hook", "--description", "from the CLI"])).toBe(0);
    const secret = /signing secret \(shown only now; store it with the receiver\): (whsec_\S+)/.exec(a.io.out)?.[1];
    expect(secret).toBeDefined();
    const id = /^created (\S+) /.exec(a.io.out)?.[1] ?? "";
    expect(await a.run(["webhooks", "list"])).toBe(0);
    expect(a.io.out).toContain(`${id} ${receiver.url}/cli (sync.queued, sync.finished; deployment cli_hook; no delivery yet) — from the CLI`);
    expect(a.io.out).not.toContain(secret ?? "none");
    const s = await submit(acme, "cli_hook");
    await waitForSync(acme, "cli_hook", s.sync.sync);
    await until(async () => (await deliveries(acme, id)).deliveries.filter((d) => d.state === "delivered").length === 2, "two deliveries");
    expect(await a.run(["webhooks", "deliveries", id, "--json"])).toBe(0);
    expect((JSON.parse(a.io.out) as DeliveriesResult).deliveries.map((d) => d.type)).toEqual(["sync.finished", "sync.queued"]);
    expect(await a.run(["webhooks", "deliveries", id])).toBe(0);
    expect(a.io.out).toMatch(/^DELIVERY +DEPLOYMENT +SEQ +TYPE +STATE +TRIES +STATUS +NEXT +ERROR\n/);
    expect(await a.run(["webhooks", "delete", id])).toBe(0);
    expect(await a.run(["webhooks", "delete", id])).toBe(3);
    expect(a.io.err).toContain("not_found");
    expect(await a.run(["webhooks", "frobnicate"])).toBe(2);
    expect(await a.run(["webhooks", "create", "ftp://x.example/"])).toBe(2);
  });
});

interface PythonReceiver {
  readonly url: string;
  readonly handled: { delivery: string; event: Record<string, unknown> }[];
  output(): string;
  restartWith(secret: string): Promise<void>;
  stop(): Promise<void>;
}

/** examples/webhook_receiver.py on a fixed port (so the webhook's URL survives a restart with the secret). */
async function startPython(): Promise<PythonReceiver> {
  const handled: { delivery: string; event: Record<string, unknown> }[] = [];
  let out = "";
  let child: ChildProcessWithoutNullStreams | null = null;
  let port = 0;
  const launch = async (secret: string) => {
    const c = spawn("/usr/bin/python3", [join(repoRoot, "examples/webhook_receiver.py"), "--listen", `127.0.0.1:${port}`], { env: { PATH: process.env.PATH ?? "", WEBHOOK_SECRET: secret } });
    child = c;
    c.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver did not start: ${out}`)), 15_000);
      createInterface({ input: c.stdout }).on("line", (line) => {
        out += `${line}\n`;
        const parsed = JSON.parse(line) as { listening?: string; delivery?: string; event?: Record<string, unknown> };
        if (parsed.listening) {
          clearTimeout(timer);
          resolve(parsed.listening);
        } else if (parsed.delivery && parsed.event) handled.push({ delivery: parsed.delivery, event: parsed.event });
      });
    });
    port = Number(new URL(url).port);
    return url;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
    });
  const url = await launch("whsec_placeholder");
  return {
    url,
    handled,
    output: () => out,
    async restartWith(secret) {
      await stop();
      await launch(secret);
    },
    stop,
  };
}
