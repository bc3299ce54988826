/**
 * The replay guarantee of docs/api.md: a client that subscribes, replays `deployment.events` from its
 * last seen seq and drops duplicates by seq misses nothing and sees nothing twice, across its own
 * disconnects and across a restart of the service (a child process stopped and started again on
 * the same port and data dir).
 */
import { afterAll, describe, expect, it } from "vitest";
import autobahn from "autobahn";
import {
  allEvents,
  connectWamp,
  firstArg,
  freePort,
  freshSalt,
  isContiguous,
  makeE2eDir,
  serviceArgs,
  spawnService,
  startInProcess,
  until,
  waitForSync,
  type ApiEvent,
  type ChildService,
  type E2eDir,
  type SerializerName,
  type SyncView,
  type Wamp,
} from "../helpers/e2e-service.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Applies events strictly in seq order, dropping duplicates; a gap triggers a replay. */
function createFollower(tenant: string, deployment: string) {
  const applied: ApiEvent[] = [];
  let duplicates = 0;
  let live = 0;
  const pending = new Map<number, ApiEvent>();
  let session: autobahn.Session | null = null;
  const last = () => applied.at(-1)?.seq ?? 0;
  function offer(e: ApiEvent): void {
    if (e.deployment !== deployment || e.tenant !== tenant) return;
    if (e.seq <= last() || pending.has(e.seq)) {
      duplicates += 1;
      return;
    }
    pending.set(e.seq, e);
    for (let next = pending.get(last() + 1); next; next = pending.get(last() + 1)) {
      pending.delete(next.seq);
      applied.push(next);
    }
    // A replay cut short by the service going away is redone by the next join, as a real client would.
    if (pending.size > 0) void replay().catch(() => undefined);
  }
  async function replay(): Promise<void> {
    for (let s = session; s !== null; ) {
      let page: { events: ApiEvent[]; more: boolean };
      try {
        page = firstArg(await s.call("fediversity.deployment.events", [], { deployment, since: last() })) as typeof page;
      } catch (err) {
        if ((err as { error?: string }).error === "fediversity.error.not_found") return; // not submitted yet
        throw err;
      }
      for (const e of page.events) offer(e);
      if (!page.more) return;
    }
  }
  return {
    applied,
    get duplicates() {
      return duplicates;
    },
    get live() {
      return live;
    },
    /** (Re)joined: subscribe first, then replay from the last seen seq. */
    async join(s: autobahn.Session): Promise<void> {
      session = s;
      await s.subscribe(`fediversity.events.${tenant}`, (args) => {
        live += 1;
        offer((args as ApiEvent[])[0]!);
      }, { match: "prefix" });
      await replay();
    },
    left(): void {
      session = null;
    },
  };
}

function finished(events: readonly ApiEvent[], sync: string): boolean {
  return events.some((e) => e.sync === sync && e.type === "sync.finished");
}

describe("events are resumable", () => {
  it("across the client's own disconnect (msgpack)", async () => {
    const dir: E2eDir = await makeE2eDir();
    cleanups.push(() => dir.remove());
    const service = await startInProcess(dir);
    cleanups.push(() => service.stop());
    const follower = createFollower("acme", "app");
    const serializer: SerializerName = "msgpack";
    let w: Wamp = await connectWamp(service.url, dir.principals.acme, { serializer });
    await follower.join(w.session);
    const r = await w.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment: "app", deployment_type: "e2e", configuration: { salt: freshSalt(), build_sleep_secs: 2 } });
    await until(() => follower.applied.length >= 3, "first events");
    follower.left();
    await w.close();
    const seenBefore = follower.applied.length;
    // Events keep coming while we are away (the build sleeps 2 s, then deploys).
    const other = await connectWamp(service.url, dir.principals.panel);
    cleanups.push(() => other.close());
    await until(async () => (await allEvents(other, "app", "acme")).length > seenBefore + 2, "events while disconnected");
    w = await connectWamp(service.url, dir.principals.acme, { serializer });
    cleanups.push(() => w.close());
    await follower.join(w.session);
    await until(() => finished(follower.applied, r.sync.sync), "sync.finished through the follower", 60_000);
    expect(await waitForSync(w, "app", r.sync.sync)).toBe("succeeded");
    const stored = await allEvents(w, "app");
    expect(isContiguous(follower.applied.map((e) => e.seq))).toBe(true);
    expect(follower.applied).toEqual(stored);
  });

  it("across a restart of the service (cbor, automatic reconnect)", async () => {
    const dir = await makeE2eDir();
    cleanups.push(() => dir.remove());
    const port = await freePort();
    const args = serviceArgs(dir).map((a) => (a === "127.0.0.1:0" ? `127.0.0.1:${port}` : a));
    let svc: ChildService = await spawnService(args);
    cleanups.push(() => svc.stop());

    const follower = createFollower("beta", "app");
    let rejoined = 0;
    const w = await connectWamp(svc.url, dir.principals.beta, {
      serializer: "cbor",
      reconnect: true,
      onReopen: (s) => {
        rejoined += 1;
        void follower.join(s);
      },
    });
    cleanups.push(() => w.close());
    await follower.join(w.session);
    void w.closed.then(() => follower.left());

    const r = await w.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment: "app", deployment_type: "e2e", configuration: { salt: freshSalt(), lines: 5, build_sleep_secs: 3 } });
    await until(() => follower.applied.some((e) => e.type === "build.started"), "the build to start", 30_000);
    const before = follower.applied.length;

    // Stop the service mid-build (a clean SIGTERM stop), then start it again on the same port.
    expect(await svc.stop()).toBe(0);
    follower.left();
    svc = await spawnService(args);
    await until(() => rejoined >= 1, "the client to reconnect", 30_000);
    await until(() => finished(follower.applied, r.sync.sync), "the sync to finish after the restart", 90_000);
    const state = follower.applied.find((e) => e.sync === r.sync.sync && e.type === "sync.finished")?.data["state"];
    // The runner picks the sync up again after the restart (the local scheduler kept the build).
    expect(state).toBe("succeeded");

    // A second sync after the restart: live events continue the same seq line.
    const r2 = await w.call<{ sync: SyncView }>("fediversity.deployment.submit", { deployment: "app", configuration: { salt: freshSalt() } });
    await until(() => finished(follower.applied, r2.sync.sync), "the second sync", 60_000);
    expect(await waitForSync(w, "app", r2.sync.sync)).toBe("succeeded");
    const stored = await allEvents(w, "app");
    expect(follower.applied.length).toBeGreaterThan(before);
    expect(isContiguous(follower.applied.map((e) => e.seq))).toBe(true);
    expect(follower.applied).toEqual(stored);
    expect(follower.live).toBeGreaterThan(0);
    expect(await svc.stop()).toBe(0);
  });
});
