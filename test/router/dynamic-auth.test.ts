// Crossbar-shaped dynamic authenticator and authorizer, registered as WAMP procedures by another
// session (the panel's role), and as in-process functions.
import autobahn from "autobahn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import type { Router } from "../../src/router/index.js";
import { connectAb, serializerNames, startRouter, type AbClient } from "./helpers.js";

type AbError = { error: string; args: unknown[] };
const ab = autobahn as unknown as { auth_cra: { sign(key: string, challenge: string): string } };
const denied = async (p: PromiseLike<unknown>): Promise<string> => ((await Promise.resolve(p).then(() => ({ error: "allowed" }), (e: unknown) => e)) as AbError).error;

describe("dynamic auth through procedures", () => {
  let router: Router;
  let url: string;
  let panel: AbClient;
  const authenticateCalls: unknown[][] = [];
  const authorizeCalls: unknown[][] = [];

  beforeAll(async () => {
    ({ router, url } = await startRouter({
      authenticator: { procedure: "com.panel.authenticate" },
      authorizer: { procedure: "com.panel.authorize" },
    }));
    const cred = router.issueTrustedTicket("panel-backend");
    panel = await connectAb(url, { serializer: "json", authmethods: ["ticket"], authid: cred.authid, onchallenge: () => cred.ticket });
    await panel.session.register("com.panel.authenticate", (args) => {
      const [realm, authid, details] = args as [string, string, Record<string, unknown>];
      authenticateCalls.push([realm, authid, details]);
      if (details.authmethod === "ticket") {
        if (details.ticket !== `pw-${authid}`) throw new autobahn.Error("com.panel.error.bad_password", ["wrong password for " + authid]);
        return { role: "user", extra: { tenant: authid.split("@")[1] } };
      }
      if (details.authmethod === "wampcra") return { role: "user", secret: `cra-${authid}`, authid: authid.toUpperCase() };
      return "user";
    });
    await panel.session.register("com.panel.authorize", (args) => {
      const [session, uri, action, options] = args as [Record<string, unknown>, string, string, Record<string, unknown>];
      authorizeCalls.push([session, uri, action, options]);
      if (uri.startsWith("bad.")) return { allow: true, surprise: 1 };
      if (uri.startsWith("cached.")) return { allow: true, cache: true };
      const tenant = (session.authextra as Record<string, unknown> | undefined)?.tenant;
      return uri.startsWith(`app.${String(tenant)}.`);
    });
  });
  afterAll(async () => {
    await panel.close();
    await router.close();
  });

  describe.each(serializerNames)("over %s", (serializer) => {
    it("authenticates a ticket through the procedure, with Crossbar's arguments", async () => {
      const c = await connectAb(url, { serializer, authmethods: ["ticket"], authid: "joe@acme", onchallenge: () => "pw-joe@acme" });
      expect(c.details).toMatchObject({ authid: "joe@acme", authrole: "user", authprovider: "dynamic", authextra: { tenant: "acme" } });
      const [realm, authid, details] = authenticateCalls.at(-1) as [string, string, Record<string, unknown>];
      expect(realm).toBe("fediversity");
      expect(authid).toBe("joe@acme");
      expect(details).toMatchObject({ authmethod: "ticket", ticket: "pw-joe@acme", session: c.session.id, transport: { type: "websocket" } });
      expect(JSON.stringify(details)).not.toMatch(/header|cookie/i);
      await c.close();
    });

    it("aborts with the authenticator's error URI and message", async () => {
      const e = await connectAb(url, { serializer, authmethods: ["ticket"], authid: "joe@acme", onchallenge: () => "wrong" }).then(
        () => undefined,
        (err: { details: { reason: string; message: string } }) => err.details,
      );
      expect(e).toEqual(expect.objectContaining({ reason: "com.panel.error.bad_password", message: "wrong password for joe@acme" }));
    });

    it("authenticates wampcra with the secret the authenticator returns, and its authid", async () => {
      const c = await connectAb(url, { serializer, authmethods: ["wampcra"], authid: "ann", onchallenge: (_s, _m, extra) => ab.auth_cra.sign("cra-ann", extra.challenge as string) });
      expect(c.details).toMatchObject({ authid: "ANN", authrole: "user", authmethod: "wampcra" });
      await c.close();
    });

    it("authorizes each action through the procedure with session, uri, action, options", async () => {
      const c = await connectAb(url, { serializer, authmethods: ["ticket"], authid: "joe@acme", onchallenge: () => "pw-joe@acme" });
      const s = c.session;
      const reg = await s.register(`app.acme.${serializer}.p`, () => "fine");
      expect(await s.call(`app.acme.${serializer}.p`)).toBe("fine");
      await s.subscribe(`app.acme.${serializer}`, () => undefined, { match: "prefix" } as never);
      await s.publish(`app.acme.${serializer}.t`, [], {}, { acknowledge: true });
      expect(await denied(s.call(`app.beta.${serializer}.p`))).toBe("wamp.error.not_authorized");
      expect(await denied(s.register(`app.beta.${serializer}.p`, () => 1))).toBe("wamp.error.not_authorized");
      expect(await denied(s.subscribe(`app.beta.${serializer}`, () => undefined))).toBe("wamp.error.not_authorized");
      expect(await denied(s.publish(`app.beta.${serializer}.t`, [], {}, { acknowledge: true }))).toBe("wamp.error.not_authorized");
      const sub = authorizeCalls.find((c) => c[2] === "subscribe" && c[1] === `app.acme.${serializer}`)!;
      expect(sub[0]).toMatchObject({ session: s.id, authid: "joe@acme", authrole: "user", authextra: { tenant: "acme" } });
      expect(sub[3]).toMatchObject({ match: "prefix" });
      expect(new Set(authorizeCalls.map((c) => c[2]))).toEqual(new Set(["register", "call", "subscribe", "publish"]));
      await s.unregister(reg);
      await c.close();
    });

    it("rejects a malformed authorizer answer and caches per (realm, authrole, uri, action)", async () => {
      const c = await connectAb(url, { serializer, authmethods: ["ticket"], authid: "joe@acme", onchallenge: () => "pw-joe@acme" });
      expect(await denied(c.session.publish(`bad.${serializer}`, [], {}, { acknowledge: true }))).toBe("wamp.error.authorization_failed");
      const before = authorizeCalls.length;
      await c.session.publish(`cached.${serializer}`, [], {}, { acknowledge: true });
      await c.session.publish(`cached.${serializer}`, [], {}, { acknowledge: true });
      expect(authorizeCalls.length).toBe(before + 1);
      // Another session with the same role hits the same cache entry.
      const d = await connectAb(url, { serializer, authmethods: ["ticket"], authid: "amy@beta", onchallenge: () => "pw-amy@beta" });
      await d.session.publish(`cached.${serializer}`, [], {}, { acknowledge: true });
      expect(authorizeCalls.length).toBe(before + 1);
      await Promise.all([c.close(), d.close()]);
    });
  });
});

describe("in-process authenticator and authorizer functions", () => {
  it("uses the functions' answers and keeps message order while authorizing asynchronously", async () => {
    const { router, url } = await startRouter({
      authenticator: async (_realm, authid, details) => {
        if (details.ticket !== "ok") throw new autobahn.Error("com.x.denied", ["no"]) as unknown as Error;
        return { role: "user", extra: { who: authid } };
      },
      authorizer: async (_session, uri) => {
        await new Promise((r) => setTimeout(r, uri.endsWith(".slow") ? 50 : 0));
        return !uri.startsWith("forbidden.");
      },
    });
    try {
      const c = await connectAb(url, { serializer: "json", authmethods: ["ticket"], authid: "u1", onchallenge: () => "ok" });
      expect(c.details.authextra).toEqual({ who: "u1" });
      const order: string[] = [];
      await c.session.subscribe("t", (a) => order.push(String(a![0])), { match: "prefix" } as never);
      const d = await connectAb(url, { serializer: "json", authmethods: ["ticket"], authid: "u2", onchallenge: () => "ok" });
      const pubs = [d.session.publish("t.slow", ["x"]), d.session.publish("t", ["1"]), d.session.publish("t", ["2"])];
      void pubs;
      expect(await denied(d.session.call("forbidden.x"))).toBe("wamp.error.not_authorized");
      await new Promise((r) => setTimeout(r, 100));
      expect(order).toEqual(["x", "1", "2"]);
      await Promise.all([c.close(), d.close()]);
    } finally {
      await router.close();
    }
  });
});

describe("in-process authenticator denials", () => {
  it("aborts with the URI an error carries (autobahn's Error), not_authorized for AppError not_authorized, else authentication_failed", async () => {
    const { router, url } = await startRouter({
      authenticator: (_realm, authid) => {
        if (authid === "carried") throw new autobahn.Error("com.x.denied", ["go away"]) as unknown as Error;
        if (authid === "app") throw new AppError("not_authorized", "unknown principal");
        throw new Error("authenticator crashed");
      },
    });
    try {
      const refusal = (authid: string) =>
        connectAb(url, { serializer: "json", authmethods: ["ticket"], authid, onchallenge: () => "t" }).then(
          () => undefined,
          (err: { details: { reason: string; message: string } }) => ({ reason: err.details.reason, message: err.details.message }),
        );
      expect(await refusal("carried")).toEqual({ reason: "com.x.denied", message: "go away" });
      expect(await refusal("app")).toEqual({ reason: "wamp.error.not_authorized", message: "unknown principal" });
      expect(await refusal("other")).toEqual({ reason: "wamp.error.authentication_failed", message: "authenticator crashed" });
    } finally {
      await router.close();
    }
  });
});

describe("per-role authorizers", () => {
  it("lets a panel role with a static table register the dynamic authorizer used for other roles", async () => {
    const { router, url } = await startRouter({
      anonymous: { role: "stranger" },
      principals: [
        { authid: "panel", role: "panel", ticket: "t-panel" },
        { authid: "u", role: "user", ticket: "t-u" },
      ],
      authorizer: {
        byRole: {
          panel: [{ role: "panel", actions: ["register"], uri: "com.panel", match: "prefix" }],
          user: { procedure: "com.panel.authorize" },
        },
      },
    });
    try {
      const panel = await connectAb(url, { serializer: "msgpack", authmethods: ["ticket"], authid: "panel", onchallenge: () => "t-panel" });
      await panel.session.register("com.panel.authorize", (args) => String(args![1]).startsWith("user."));
      await panel.session.register("com.panel.anything", () => "x");
      expect(await denied(panel.session.call("com.panel.anything"))).toBe("wamp.error.not_authorized");
      const user = await connectAb(url, { serializer: "cbor", authmethods: ["ticket"], authid: "u", onchallenge: () => "t-u" });
      await user.session.register("user.proc", () => "ok");
      expect(await user.session.call("user.proc")).toBe("ok");
      expect(await denied(user.session.call("com.panel.anything"))).toBe("wamp.error.not_authorized");
      const stranger = await connectAb(url, { serializer: "json" });
      expect(await denied(stranger.session.call("user.proc"))).toBe("wamp.error.not_authorized");
      await Promise.all([panel.close(), user.close(), stranger.close()]);
    } finally {
      await router.close();
    }
  });
});
