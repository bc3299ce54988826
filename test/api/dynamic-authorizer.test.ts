/**
 * The authorizer as a WAMP procedure (how Crossbar.io calls a dynamic authorizer): the embedded
 * router configured with `{ procedure }` asks `fediversity.authorize` for every action.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter, type Router } from "../../src/router/index.js";
import { registerAuthorizer } from "../../src/api/register.js";
import { open, principals, type TestClient } from "./harness.js";

let router: Router;
let url: string;
let service: TestClient;

beforeAll(async () => {
  router = createRouter({ pingIntervalMs: 0, principals, authorizer: { procedure: "fediversity.authorize" } });
  ({ url } = await router.listen({ port: 0 }));
  const cred = router.issueTrustedTicket("service");
  service = await open(url, cred.authid, cred.ticket);
  await registerAuthorizer(service.session, "fediversity.authorize");
  await service.session.register("fediversity.deployment.get", () => ({ ok: true }), { disclose_caller: true });
});

afterAll(async () => {
  service?.close();
  await router?.close();
});

describe("registerAuthorizer", () => {
  it("answers the router's authorize(session, uri, action, options) calls", async () => {
    const joe = await open(url, "joe", "joe-secret");
    try {
      await expect(joe.session.call("fediversity.deployment.get", [], { deployment: "x" })).resolves.toEqual({ ok: true });
      await expect(joe.session.call("fediversity.admin.secret", [], {})).rejects.toMatchObject({ error: "wamp.error.not_authorized" });
      await expect(joe.session.subscribe("fediversity.events.acme.mastodon", () => {})).resolves.toBeDefined();
      await expect(joe.session.subscribe("fediversity.events.acme2.mastodon", () => {})).rejects.toMatchObject({
        error: "wamp.error.not_authorized",
      });
      await expect(joe.session.register("fediversity.deployment.submit", () => 1)).rejects.toMatchObject({
        error: "wamp.error.not_authorized",
      });
    } finally {
      joe.close();
    }
  });
});
