import { describe, expect, it } from "vitest";
import { createServiceMetrics } from "./metrics.js";

describe("service metrics", () => {
  it("exposes sync counts read at scrape time and the counters", async () => {
    const m = createServiceMetrics();
    let queued = 3;
    m.setSyncCountSource(() => ({ queued, building: 1 }));
    m.setSessionCountSource(() => 7);
    m.rioReattaches.inc();
    m.eventsPublished.inc(5);
    let text = await m.registry.metrics();
    expect(text).toMatch(/fediversity_syncs\{state="queued"\} 3/);
    expect(text).toMatch(/fediversity_syncs\{state="building"\} 1/);
    expect(text).toMatch(/fediversity_rio_reattaches_total 1/);
    expect(text).toMatch(/fediversity_events_published_total 5/);
    expect(text).toMatch(/fediversity_wamp_sessions 7/);
    queued = 0;
    text = await m.registry.metrics();
    expect(text).toMatch(/fediversity_syncs\{state="queued"\} 0/);
  });

  it("keeps registries apart between instances", async () => {
    const a = createServiceMetrics();
    const b = createServiceMetrics();
    a.eventsStored.inc(2);
    expect(await b.registry.metrics()).toMatch(/fediversity_events_stored_total 0/);
  });
});
