/** A real embedded router with the API registered on an in-memory service, for test/api. */
import autobahn from "autobahn";
import { createRouter, type PrefixMode, type Router } from "../../src/router/index.js";
import { createAuthorizer } from "../../src/api/authorize.js";
import { registerApi, type ApiHandle } from "../../src/api/register.js";
import { createEventPublisher } from "../../src/api/publisher.js";
import { createMemoryService } from "./memory-service.js";

export const principals = [
  { authid: "joe", role: "tenant", tenant: "acme", ticket: "joe-secret" },
  { authid: "ann", role: "tenant", tenant: "acme2", ticket: "ann-secret" },
  { authid: "panel", role: "panel", ticket: "panel-secret" },
  { authid: "op", role: "operator", ticket: "op-secret" },
];

export interface TestClient {
  session: autobahn.Session;
  close(): void;
}

export function open(url: string, authid: string, ticket: string): Promise<TestClient> {
  // autobahn-js console.warns every connection change.
  (autobahn.log as unknown as { warn: () => void }).warn = () => {};
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      url,
      realm: "fediversity",
      authmethods: ["ticket"],
      authid,
      onchallenge: () => ticket,
      max_retries: 0,
      retry_if_unreachable: false,
      on_user_error: () => {},
    });
    let opened = false;
    connection.onopen = (session) => {
      opened = true;
      resolve({ session, close: () => connection.close() });
    };
    connection.onclose = (reason, details) => {
      if (!opened) reject(new Error(`${reason} ${JSON.stringify(details)}`));
      return true;
    };
    connection.open();
  });
}

export interface ApiHarness {
  readonly router: Router;
  readonly url: string;
  readonly stats: { readonly activeFollows: number };
  close(): Promise<void>;
}

export async function startApi(options: { prefixMatching?: PrefixMode; stepMs?: number } = {}): Promise<ApiHarness> {
  const prefixMatching = options.prefixMatching ?? "segment";
  const router = createRouter({
    pingIntervalMs: 0,
    principals,
    prefixMatching,
    authorizer: createAuthorizer({ allowBareTenantPrefix: prefixMatching === "segment" }),
  });
  const { url } = await router.listen({ port: 0 });
  // The API joins in-process, as in the service (src/main.ts): the router passes it progressive
  // calls because this session, unlike autobahn-js 22, honours call canceling.
  const service = router.openLocalSession({ authid: "service" });
  const session = service as unknown as autobahn.Session;
  const publisher = createEventPublisher(session);
  const memory = createMemoryService({ publisher, stepMs: options.stepMs ?? 20 });
  const api: ApiHandle = await registerApi(session, memory);
  return {
    router,
    url,
    stats: memory.stats,
    async close() {
      await api.close();
      service.close();
      await router.close();
    },
  };
}
