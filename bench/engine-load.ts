/**
 * The client side of bench/engine.ts's "syncs accepted/s": a separate process (as the panel would
 * be) with one WAMP session, submitting `count` syncs with `window` calls in flight. Talks to the
 * parent over IPC: receives { url, authid, ticket, names, configuration, window }, answers
 * { secs } (first call to last answer) or { error }.
 */
import { performance } from "node:perf_hooks";
import { connect } from "../src/cli/client.js";

interface LoadRequest {
  readonly url: string;
  readonly authid: string;
  readonly ticket: string;
  readonly names: readonly string[];
  readonly configuration: Record<string, unknown>;
  readonly window: number;
}

process.once("message", (msg: LoadRequest) => {
  void run(msg).then(
    (secs) => process.send?.({ secs }),
    (err: unknown) => process.send?.({ error: String(err) }),
  );
});

async function run(req: LoadRequest): Promise<number> {
  const client = await connect({ url: req.url, realm: "fediversity", authid: req.authid, ticket: req.ticket, reconnect: false });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: req.window }, async () => {
      while (next < req.names.length) {
        const deployment = req.names[next++] ?? "";
        await client.call("fediversity.deployment.submit", { tenant: "acme", deployment, deployment_type: "engine", configuration: req.configuration });
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  client.close();
  return secs;
}
