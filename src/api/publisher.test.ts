import { describe, expect, it } from "vitest";
import { createEventPublisher } from "./publisher.js";
import type { DeploymentEvent, LogLine } from "../core/index.js";

function recorder() {
  const published: { topic: string; args: unknown[]; options: unknown }[] = [];
  const session = {
    publish(topic: string, args: unknown[], _kwargs: unknown, options: unknown) {
      published.push({ topic, args, options });
      return undefined;
    },
  };
  return { session: session as never, published };
}

const event = (seq: number): DeploymentEvent => ({
  seq,
  tenant: "acme",
  deployment: "mastodon",
  sync: "01J",
  type: "sync.queued",
  at: "2026-11-27T00:00:00Z",
  data: {},
});
const line = (n: number): LogLine => ({ line: n, source: "build", derivation: null, text: `l${n}` });

describe("event publisher", () => {
  it("publishes one event per args[0] on the deployment's topic, in order", async () => {
    const r = recorder();
    const p = createEventPublisher(r.session);
    await p.publishEvents([event(1), event(2)]);
    expect(r.published.map((x) => [x.topic, (x.args[0] as DeploymentEvent).seq])).toEqual([
      ["fediversity.events.acme.mastodon", 1],
      ["fediversity.events.acme.mastodon", 2],
    ]);
  });

  it("publishes log batches as { sync, lines }, split when large, from a store commit", async () => {
    const r = recorder();
    const p = createEventPublisher(r.session, { maxLinesPerBatch: 2 });
    await p.publishCommit({
      events: [event(3)],
      logs: [{ tenant: "acme", deployment: "mastodon", sync: "01J", lines: [line(0), line(1), line(2)] }],
    });
    expect(r.published.map((x) => x.topic)).toEqual([
      "fediversity.events.acme.mastodon",
      "fediversity.logs.acme.mastodon",
      "fediversity.logs.acme.mastodon",
    ]);
    expect(r.published[1]?.args[0]).toEqual({ sync: "01J", lines: [line(0), line(1)] });
    expect(r.published[2]?.args[0]).toEqual({ sync: "01J", lines: [line(2)] });
  });

  it("reports a failed publish instead of throwing", async () => {
    const errors: string[] = [];
    const session = {
      publish() {
        throw new Error("session closed");
      },
    };
    const p = createEventPublisher(session as never, { onError: (_e, topic) => errors.push(topic) });
    await expect(p.publishEvent(event(1))).resolves.toBeUndefined();
    expect(errors).toEqual(["fediversity.events.acme.mastodon"]);
  });
});
