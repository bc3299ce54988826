// Authentication (ticket, wampcra plain and salted, cryptosign, anonymous, trusted) and the
// static authorization table, through autobahn-js on every serializer.
import autobahn from "autobahn";
import nacl from "tweetnacl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fediversityAuthorizationRules, type Router, type StaticPrincipal } from "../../src/router/index.js";
import { connectAb, serializerNames, sleep, startRouter, type AbClient } from "./helpers.js";

type AbError = { error: string; args: unknown[] };
const ab = autobahn as unknown as {
  auth_cra: { sign(key: string, challenge: string): string; derive_key(secret: string, salt: string, iterations: number, keylen: number): string };
  auth_cryptosign: { sign_challenge(key: nacl.SignKeyPair, extra: Record<string, unknown>): string };
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const daveKey = nacl.sign.keyPair();
const strangerKey = nacl.sign.keyPair();
const principals: StaticPrincipal[] = [
  { authid: "alice", role: "tenant", tenant: "acme", ticket: "t-alice" },
  { authid: "eve", role: "tenant", tenant: "acme-corp", ticket: "t-eve" },
  { authid: "bob", role: "operator", secret: "s-bob" },
  { authid: "carol", role: "panel", secret: "s-carol", salt: "salt123", iterations: 100, keylen: 32 },
  { authid: "dave", role: "tenant", tenant: "beta", pubkey: hex(daveKey.publicKey) },
];

let router: Router;
let url: string;
beforeAll(async () => {
  ({ router, url } = await startRouter({ principals, authorizer: fediversityAuthorizationRules(), prefixMatching: "segment", realms: ["fediversity", "other"] }));
});
afterAll(async () => {
  await router.close();
});

const refused = (p: Promise<AbClient>): Promise<{ reason: string; message: string }> =>
  p.then(
    async (c) => {
      await c.close();
      throw new Error("session unexpectedly opened");
    },
    (e: { reason: string; details: { reason: string; message: string } }) => ({ reason: e.details.reason, message: e.details.message }),
  );

describe.each(serializerNames)("authentication over %s", (serializer) => {
  const ticket = (authid: string, t: string): Promise<AbClient> =>
    connectAb(url, { serializer, authmethods: ["ticket"], authid, onchallenge: () => t });

  it("ticket: accepts the right ticket and puts the tenant into authextra", async () => {
    const c = await ticket("alice", "t-alice");
    expect(c.details).toMatchObject({ authid: "alice", authrole: "tenant", authmethod: "ticket", authprovider: "static", authextra: { tenant: "acme" } });
    await c.close();
  });

  it("ticket: refuses a wrong ticket and an unknown authid", async () => {
    expect((await refused(ticket("alice", "nope"))).reason).toBe("wamp.error.not_authorized");
    expect((await refused(ticket("mallory", "t-alice"))).reason).toBe("wamp.error.no_auth_method");
  });

  it("wampcra: plain and PBKDF2-salted secrets", async () => {
    const bob = await connectAb(url, { serializer, authmethods: ["wampcra"], authid: "bob", onchallenge: (_s, _m, extra) => ab.auth_cra.sign("s-bob", extra.challenge as string) });
    expect(bob.details).toMatchObject({ authid: "bob", authrole: "operator", authmethod: "wampcra" });
    await bob.close();
    const carol = await connectAb(url, {
      serializer,
      authmethods: ["wampcra"],
      authid: "carol",
      onchallenge: (_s, _m, extra) => {
        expect(extra).toMatchObject({ salt: "salt123", iterations: 100, keylen: 32 });
        const key = ab.auth_cra.derive_key("s-carol", extra.salt as string, extra.iterations as number, extra.keylen as number);
        return ab.auth_cra.sign(key, extra.challenge as string);
      },
    });
    expect(carol.details).toMatchObject({ authid: "carol", authrole: "panel" });
    await carol.close();
  });

  it("wampcra: refuses a wrong secret", async () => {
    const r = await refused(connectAb(url, { serializer, authmethods: ["wampcra"], authid: "bob", onchallenge: (_s, _m, extra) => ab.auth_cra.sign("wrong", extra.challenge as string) }));
    expect(r.reason).toBe("wamp.error.not_authorized");
  });

  it("cryptosign: accepts a signature by the registered key, refuses others", async () => {
    const sign = (key: nacl.SignKeyPair) => (_s: unknown, _m: string, extra: Record<string, unknown>) => ab.auth_cryptosign.sign_challenge(key, extra);
    const dave = await connectAb(url, { serializer, authmethods: ["cryptosign"], authid: "dave", authextra: { pubkey: hex(daveKey.publicKey) }, onchallenge: sign(daveKey) });
    expect(dave.details).toMatchObject({ authid: "dave", authrole: "tenant", authmethod: "cryptosign", authextra: { tenant: "beta" } });
    await dave.close();
    // Claims dave's key but signs with another one.
    const forged = await refused(connectAb(url, { serializer, authmethods: ["cryptosign"], authid: "dave", authextra: { pubkey: hex(daveKey.publicKey) }, onchallenge: sign(strangerKey) }));
    expect(forged.reason).toBe("wamp.error.not_authorized");
    const unknown = await refused(connectAb(url, { serializer, authmethods: ["cryptosign"], authextra: { pubkey: hex(strangerKey.publicKey) }, onchallenge: sign(strangerKey) }));
    expect(unknown.reason).toBe("wamp.error.no_auth_method");
  });

  it("anonymous is refused unless enabled; unknown realms are refused", async () => {
    expect((await refused(connectAb(url, { serializer }))).reason).toBe("wamp.error.no_auth_method");
    expect((await refused(connectAb(url, { serializer, realm: "nowhere", authmethods: ["ticket"], authid: "alice", onchallenge: () => "t-alice" }))).reason).toBe(
      "wamp.error.no_such_realm",
    );
  });

  it("a trusted credential joins with role trusted and may do anything", async () => {
    const cred = router.issueTrustedTicket(`svc-${serializer}`);
    const svc = await connectAb(url, { serializer, authmethods: [...cred.authmethods], authid: cred.authid, onchallenge: () => cred.ticket });
    expect(svc.details).toMatchObject({ authrole: "trusted", authprovider: "router" });
    const reg = await svc.session.register(`anything.${serializer}.goes`, () => 1);
    await svc.session.unregister(reg);
    await svc.close();
    router.revokeTrustedTicket(cred.authid);
    expect((await refused(connectAb(url, { serializer, authmethods: ["ticket"], authid: cred.authid, onchallenge: () => cred.ticket }))).reason).toBe("wamp.error.no_auth_method");
  });
});

describe.each(serializerNames)("static authorization table over %s", (serializer) => {
  let svc: AbClient;
  let alice: AbClient;
  let bob: AbClient;
  const p = `fediversity.${serializer}`;
  beforeAll(async () => {
    const cred = router.issueTrustedTicket(`svc2-${serializer}`);
    svc = await connectAb(url, { serializer, authmethods: ["ticket"], authid: cred.authid, onchallenge: () => cred.ticket });
    alice = await connectAb(url, { serializer, authmethods: ["ticket"], authid: "alice", onchallenge: () => "t-alice" });
    bob = await connectAb(url, { serializer, authmethods: ["wampcra"], authid: "bob", onchallenge: (_s, _m, extra) => ab.auth_cra.sign("s-bob", extra.challenge as string) });
  });
  afterAll(async () => {
    await Promise.all([svc.close(), alice.close(), bob.close()]);
  });
  const denied = async (p: PromiseLike<unknown>): Promise<string> => ((await Promise.resolve(p).then(() => ({ error: "allowed" }), (e: unknown) => e)) as AbError).error;

  it("a tenant may call fediversity procedures, and the callee learns who called", async () => {
    const seen: Record<string, unknown>[] = [];
    const reg = await svc.session.register(`${p}.whoami`, (_a, _k, d) => {
      const x = d as unknown as Record<string, unknown>;
      seen.push({ caller_authid: x.caller_authid, caller_authrole: x.caller_authrole, tenant: (router.getSession(x.caller as number)?.authextra as Record<string, unknown>).tenant });
      return "ok";
    });
    expect(await alice.session.call(`${p}.whoami`)).toBe("ok");
    expect(seen).toEqual([{ caller_authid: "alice", caller_authrole: "tenant", tenant: "acme" }]);
    await svc.session.unregister(reg);
  });

  it("denies a tenant call, register and publish outside its rights", async () => {
    expect(await denied(alice.session.call("other.procedure"))).toBe("wamp.error.not_authorized");
    expect(await denied(alice.session.register(`${p}.mine`, () => 1))).toBe("wamp.error.not_authorized");
    expect(await denied(alice.session.publish(`fediversity.events.acme.${serializer}`, [], {}, { acknowledge: true }))).toBe("wamp.error.not_authorized");
  });

  it("lets a tenant subscribe to its own events and logs only", async () => {
    const got: unknown[] = [];
    const s1 = await alice.session.subscribe("fediversity.events.acme", (a, _k, d) => got.push([a, d?.topic]), { match: "prefix" });
    const s2 = await alice.session.subscribe("fediversity.logs.acme.mastodon", () => got.push("log"));
    expect(await denied(alice.session.subscribe("fediversity.events.beta", () => undefined, { match: "prefix" }))).toBe("wamp.error.not_authorized");
    expect(await denied(alice.session.subscribe("fediversity.events", () => undefined, { match: "prefix" }))).toBe("wamp.error.not_authorized");
    expect(await denied(alice.session.subscribe("fediversity.events..mastodon", () => undefined, { match: "wildcard" }))).toBe("wamp.error.not_authorized");
    expect(await denied(alice.session.subscribe("wamp.session.on_join", () => undefined))).toBe("wamp.error.not_authorized");
    // Segment prefix matching: acme's prefix subscription does not see tenant acme-corp.
    await svc.session.publish("fediversity.events.acme-corp.x", ["corp"], {}, { acknowledge: true });
    await svc.session.publish("fediversity.events.acme.mastodon", ["mine"], {}, { acknowledge: true });
    await svc.session.publish("fediversity.logs.acme.mastodon", [], {}, { acknowledge: true });
    await sleep(100);
    expect(got).toEqual([[["mine"], "fediversity.events.acme.mastodon"], "log"]);
    await alice.session.unsubscribe(s1);
    await alice.session.unsubscribe(s2);
  });

  it("lets an operator do everything under fediversity, nothing else", async () => {
    const reg = await bob.session.register(`${p}.op`, () => 1);
    expect(await alice.session.call(`${p}.op`)).toBe(1);
    await bob.session.unregister(reg);
    expect(await denied(bob.session.register(`elsewhere.${serializer}`, () => 1))).toBe("wamp.error.not_authorized");
  });
});
