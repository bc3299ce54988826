// Interop with Debian's autobahn-python 22.7 (run with /usr/bin/python3) on every serializer.
import autobahn from "autobahn";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import nacl from "tweetnacl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fediversityAuthorizationRules, type AuthorizerFn, type Router } from "../../src/router/index.js";
import { connectAb, serializerNames, startRouter, type AbClient } from "./helpers.js";

const script = fileURLToPath(new URL("./py/client.py", import.meta.url));

function runPython(url: string, serializer: string, scenario: string, auth: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile("/usr/bin/python3", [script, url, serializer, scenario, JSON.stringify(auth)], { timeout: 45_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`python failed: ${String(err)}\n${stdout}\n${stderr}`));
      }
    });
  });
}

const seed = nacl.randomBytes(32);
const daveKey = nacl.sign.keyPair.fromSeed(seed);
const rules = fediversityAuthorizationRules({ fullAccessRoles: ["operator"] });
const staticRules = (await import("../../src/router/index.js")).createStaticAuthorizer(rules, { prefixMode: "segment" });
// Operators may use the test's node.*/py.* URIs (disclosed) and plain.* (a bare `true`, disclosing
// nothing); everything else follows the service's table.
const authorizer: AuthorizerFn = (session, uri, action, options) => {
  if (session.authrole === "operator" && (uri.startsWith("node.") || uri.startsWith("py."))) return { allow: true, disclose: true };
  if (session.authrole === "operator" && uri.startsWith("plain.")) return true;
  return staticRules(session, uri, action, options);
};

let router: Router;
let url: string;
let node: AbClient;
beforeAll(async () => {
  ({ router, url } = await startRouter({
    prefixMatching: "segment",
    authorizer,
    principals: [
      { authid: "py", role: "operator", ticket: "t-py" },
      { authid: "carol", role: "operator", secret: "s-carol", salt: "pepper", iterations: 100, keylen: 32 },
      { authid: "dave", role: "operator", pubkey: Buffer.from(daveKey.publicKey).toString("hex") },
      { authid: "alice", role: "tenant", tenant: "acme", ticket: "t-alice" },
    ],
  }));
  const cred = router.issueTrustedTicket("node");
  node = await connectAb(url, { serializer: "json", authmethods: ["ticket"], authid: cred.authid, onchallenge: () => cred.ticket });
  const s = node.session;
  await s.register("node.echo", (args, kwargs) => {
    if (!(args ?? []).every((a) => typeof a !== "number" || Number.isInteger(a) || a === 0.5)) throw new autobahn.Error("node.error.type", ["not integers"]);
    return new autobahn.Result(args, kwargs);
  });
  await s.register("node.fail", () => {
    throw new autobahn.Error("com.panel.error.invalid", ["bad thing"], { code: 42 });
  });
  // Progressive results need a callee that announces call canceling: the router's in-process
  // session does, autobahn-js 22 does not (its callers get only the final result).
  const local = router.openLocalSession();
  await local.register("node.progress", (_a, _k, d) => {
    d.progress?.([1], {});
    d.progress?.([2], { more: true });
    return "done";
  });
  await s.register("node.progress_uninterruptible", (_a, _k, d) => {
    d?.progress?.([1], {});
    return "done";
  });
  await s.register("node.tick", async () => {
    for (let i = 1; i <= 3; i++) await s.publish(`node.ticks.${i}`, [i, 2 ** 41], { n: i }, { acknowledge: true });
    return null;
  });
  await s.register("node.call_py", async (args) => {
    const r = (await s.call(args![0] as string, ["hi from node", 2 ** 45], { k: 1 })) as Record<string, unknown>;
    return { ...r, node_saw_int: Number.isInteger(r.int) };
  });
  await s.register("node.call_py_progress", async (args) => {
    const updates: unknown[] = [];
    const p = s.call(args![0] as string, [], {}, { receive_progress: true }) as unknown as { then(a: (v: unknown) => void, b: (e: unknown) => void, c: (p: unknown) => void): void };
    const final = await new Promise((resolve, reject) => p.then(resolve, reject, (u) => updates.push(u)));
    return { updates, final };
  });
  // Registered with disclose_caller; the authorizer answers a bare `true` for plain.*, so only the
  // registration can disclose the caller.
  await s.register(
    "plain.who",
    (_a, _k, d) => {
      const x = d as unknown as Record<string, unknown>;
      return { caller: x.caller, caller_authid: x.caller_authid, caller_authrole: x.caller_authrole };
    },
    { disclose_caller: true } as never,
  );
  await s.register("node.whoami", (_a, _k, d) => {
    const x = d as unknown as Record<string, unknown>;
    return { caller: x.caller, caller_authid: x.caller_authid, caller_authrole: x.caller_authrole };
  });
});
afterAll(async () => {
  await node.close();
  await router.close();
});

describe.each(serializerNames)("autobahn-python over %s", (serializer) => {
  it("does RPC, errors, progress, events and callee work both ways, with integer ids", async () => {
    const out = await runPython(url, serializer, "interop", { ticket: { authid: "py", ticket: "t-py" } });
    expect(out.exception).toBeUndefined();
    expect(out.details).toMatchObject({ authid: "py", authrole: "operator", authmethod: "ticket" });
    expect(out.session_is_int).toBe(true);
    expect(out.echo).toEqual({ args: [1, 2 ** 40 + 1, 2 ** 53], kwargs: { big: 2 ** 33, f: 0.5, s: "hé" }, types: [true, true, true] });
    expect(out.error).toEqual({ uri: "com.panel.error.invalid", args: ["bad thing"], kwargs: { code: 42 } });
    expect(out.progress).toEqual({ updates: [[[1], {}], [[2], { more: true }]], final: "done" });
    expect(out.progress_withheld).toEqual({ updates: [], final: "done" });
    expect(out.events).toEqual([1, 2, 3].map((i) => ({ args: [i, 2 ** 41], kwargs: { n: i } })));
    expect(out.node_called_py).toEqual({ py: true, args: ["hi from node", 2 ** 45], kwargs: { k: 1 }, int: 2 ** 52 + 3, node_saw_int: true });
    expect(out.disclosed).toMatchObject({ caller_authid: "py", caller_authrole: "operator" });
    expect(out.publication_is_int).toBe(true);
    expect(out.node_progress).toEqual({ updates: [1, 2], final: "py-done" });
  });

  it("authenticates with salted wampcra and cryptosign, and reports refusals", async () => {
    const carol = await runPython(url, serializer, "join", { wampcra: { authid: "carol", secret: "s-carol" } });
    expect(carol.details).toMatchObject({ authid: "carol", authmethod: "wampcra" });
    const dave = await runPython(url, serializer, "join", { cryptosign: { authid: "dave", privkey: Buffer.from(seed).toString("hex") } });
    expect(dave.details).toMatchObject({ authid: "dave", authmethod: "cryptosign" });
    const wrong = await runPython(url, serializer, "join", { ticket: { authid: "py", ticket: "nope" } });
    expect(wrong.joined).toBe(false);
    expect(wrong.leave_reason).toBe("wamp.error.not_authorized");
  });

  it("gets an ERROR for a call the router refuses (too deep, a __proto__ key) and goes on; is disclosed to a disclose_caller registration", async () => {
    const out = await runPython(url, serializer, "payload", { ticket: { authid: "py", ticket: "t-py" } });
    expect(out.exception).toBeUndefined();
    expect(out.deep).toEqual({ error: "wamp.error.invalid_argument", args: ["CALL kwargs refused: nested deeper than 64 levels (the router's limit)"] });
    expect(out.proto).toEqual({ error: "wamp.error.invalid_argument", args: ["CALL kwargs refused: dict key '__proto__' is not allowed"] });
    expect(out.after).toEqual({ result: 1 });
    expect(out.disclosed_by_registration).toEqual({ caller: out.session, caller_authid: "py", caller_authrole: "operator" });
  });

  it("applies the tenant rules to a Python tenant session", async () => {
    const out = await runPython(url, serializer, "denied", { ticket: { authid: "alice", ticket: "t-alice" } });
    expect(out).toMatchObject({
      authextra: { tenant: "acme" },
      register: "wamp.error.not_authorized",
      publish: "wamp.error.not_authorized",
      subscribe_other: "wamp.error.not_authorized",
      subscribe_own: "allowed",
      call_outside: "wamp.error.not_authorized",
    });
  });
});
