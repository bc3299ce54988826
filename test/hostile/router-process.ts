/**
 * Test-only: the project's WAMP router alone, as its own process, so the service can run in
 * component mode against it and the router can be killed. Configured like the embedded one.
 * Env: ROUTER_PORT, ROUTER_PRINCIPALS (a principals file; role `trusted` for the service).
 */
import { createAuthorizer } from "../../src/api/authorize.js";
import { createRouter } from "../../src/router/index.js";

const router = createRouter({
  realms: ["fediversity"],
  principals: process.env.ROUTER_PRINCIPALS ?? "",
  prefixMatching: "segment",
  authorizer: createAuthorizer({ allowBareTenantPrefix: true }),
});
const { url } = await router.listen({ host: "127.0.0.1", port: Number(process.env.ROUTER_PORT ?? 0), path: "/ws" });
process.stdout.write(`router listening ${url}\n`);
const stop = (): void => void router.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
