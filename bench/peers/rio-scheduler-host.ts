/**
 * The server side of the rio half of bench/peers.ts: the local scheduler in a process of its own,
 * holding one live build (a derivation that sleeps) into whose event stream the scheduler's
 * benchmark hook injects synthetic log events on request. Nothing follows the build between
 * runs (the orphan grace is raised so it is not cancelled), so each reader has the stream to itself.
 * Ready with { url, buildId }; request `inject {count}` → { ms }.
 */
import { nixConfigText } from "../../src/nix-env.js";
import { createRioClient } from "../../src/rio/index.js";
import { createLocalScheduler } from "../../src/scheduler/index.js";
import { instantiateFixture } from "../../test/rio/nix-fixture.js";
import { serveParent } from "./child-link.js";

process.env.NIX_CONFIG = nixConfigText();

const scheduler = await createLocalScheduler({ listen: "127.0.0.1:0", orphanGraceMs: 6 * 3600_000 });
const rio = createRioClient({ url: scheduler.url });
const fx = await instantiateFixture([{ name: "peers-bench-holder", script: "sleep 21600; echo x > $out" }]);
const build = await rio.submit({ dag: fx.dag });
// Injected events go to a build's watchers; wait until the holder runs, then let go of the stream.
const running = new AbortController();
await build.follow({
  signal: running.signal,
  onEvent: (e) => {
    if (e.type === "derivation" && e.kind === "started") running.abort();
  },
});

serveParent(
  { url: scheduler.url, buildId: build.buildId },
  async (m) => {
    if (m.cmd !== "inject") throw new Error(`unknown request ${String(m.cmd)}`);
    const t0 = performance.now();
    await scheduler.faults.injectEvents(build.buildId, m.count as number, "log");
    return { ms: performance.now() - t0 };
  },
  async () => {
    await rio.cancel(build.buildId, "benchmark done").catch(() => false);
    rio.close();
    await scheduler.close();
  },
);
