/**
 * The scheduler side of bench/rio-events.ts, run as a child process so that server and client
 * each have their own event loop (as they would across machines). Talks to the parent over IPC:
 * sends { url } when listening; on { inject, buildId, count } injects events and answers { injected }.
 */
import { nixConfigText } from "../src/nix-env.js";
import { createLocalScheduler } from "../src/scheduler/index.js";

process.env.NIX_CONFIG = nixConfigText();

interface InjectRequest {
  inject: true;
  buildId: string;
  count: number;
}

const scheduler = await createLocalScheduler({ listen: "127.0.0.1:0" });
process.on("message", (msg: InjectRequest | { close: true }) => {
  if ("close" in msg) {
    void scheduler.close().then(() => process.exit(0));
    return;
  }
  const t0 = performance.now();
  void scheduler.faults
    .injectEvents(msg.buildId, msg.count, "log")
    .then(() => process.send?.({ injected: msg.count, ms: performance.now() - t0 }));
});
process.send?.({ url: scheduler.url });
