/**
 * The scheduler side of bench/engine.ts: the local rio-compatible scheduler in a child process, so
 * that it survives the service's restart and does not share the service's event loop or RSS.
 * IPC: sends { url } when listening; on { inject, buildIds, count, kind } injects `count` events
 * into each build and answers { injected }; on { close } exits.
 */
import { nixConfigText } from "../src/nix-env.js";
import { createLocalScheduler, type InjectedEventKind } from "../src/scheduler/index.js";

process.env.NIX_CONFIG = nixConfigText();

interface InjectRequest {
  readonly inject: true;
  readonly buildIds: readonly string[];
  readonly count: number;
  readonly kind: InjectedEventKind;
}

const scheduler = await createLocalScheduler({ listen: "127.0.0.1:0", maxJobs: 4 });
process.on("message", (msg: InjectRequest | { close: true }) => {
  if ("close" in msg) {
    void scheduler.close().then(() => process.exit(0));
    return;
  }
  void Promise.all(msg.buildIds.map((id) => scheduler.faults.injectEvents(id, msg.count, msg.kind))).then(
    () => process.send?.({ injected: msg.count * msg.buildIds.length }),
    (err: unknown) => process.send?.({ error: String(err) }),
  );
});
process.send?.({ url: scheduler.url });
