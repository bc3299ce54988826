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
  it("publishes one event per args[0] on the deployment's topic, in order", () => {
    const r = recorder();
    const p = createEventPublisher(r.session);
    p.publishCommit({ events: [event(1), event(2)], logs: [] });
    expect(r.published.map((x) => [x.topic, (x.args[0] as DeploymentEvent).seq])).toEqual([
      ["fediversity.events.acme.mastodon", 1],
      ["fediversity.events.acme.mastodon", 2],
    ]);
  });

  it("publishes log batches as { sync, lines }, split when large, from a store commit", () => {
    const r = recorder();
    const p = createEventPublisher(r.session, { maxLinesPerBatch: 2 });
    p.publishCommit({
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

  it("sends a whole commit before it returns, so two commits never interleave", () => {
    const r = recorder();
    const p = createEventPublisher(r.session);
    p.publishCommit({ events: [event(1), event(2), event(3)], logs: [] });
    expect(r.published).toHaveLength(3);
    p.publishCommit({ events: [event(4), event(5)], logs: [] });
    expect(r.published.map((x) => (x.args[0] as DeploymentEvent).seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("reports a failed publish instead of throwing", () => {
    const errors: string[] = [];
    const session = {
      publish() {
        throw new Error("session closed");
      },
    };
    const p = createEventPublisher(session as never, { onError: (_e, topic) => errors.push(topic) });
    expect(() => p.publishCommit({ events: [event(1)], logs: [] })).not.toThrow();
    expect(errors).toEqual(["fediversity.events.acme.mastodon"]);
  });
});
