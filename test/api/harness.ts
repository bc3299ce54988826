/**
 * The real service for test/api: store on a temp dir, local scheduler, Nix evaluation of the e2e
 * deployment type (test/fixtures/e2e/), local deployer, runner, embedded router with the API
 * registered, and these tests' principals (two tenants whose names share a prefix, a panel, an
 * operator).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autobahn from "autobahn";
import { parseServiceConfig } from "../../src/config.js";
import { startService } from "../../src/main.js";
import { e2eTypesPath } from "../helpers/e2e-service.js";

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
  readonly url: string;
  /** `build.logs` follow calls the service is serving now (its /metrics gauge). */
  logFollows(): Promise<number>;
  close(): Promise<void>;
}

export async function startApi(): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), "api-"));
  const principalsPath = join(dir, "principals.json");
  await writeFile(principalsPath, JSON.stringify(principals), { mode: 0o600 });
  const argv = ["--data-dir", join(dir, "data"), "--principals", principalsPath, "--deployment-types", e2eTypesPath, "--listen", "127.0.0.1:0", "--log-level", "error"];
  const service = await startService(parseServiceConfig(argv, {}));
  return {
    url: service.url,
    async logFollows() {
      const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
      const m = /^fediversity_log_follows (\d+)$/m.exec(text);
      if (!m) throw new Error("no fediversity_log_follows in /metrics");
      return Number(m[1]);
    },
    async close() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
