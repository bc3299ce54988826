import { describe, expect, it } from "vitest";
import { createReadyQueue } from "./ready-queue.js";

describe("ready queue", () => {
  it("pops by highest score, skips deleted items and follows rescoring", () => {
    const scores = new Map<string, number>();
    const q = createReadyQueue<string>((x) => scores.get(x) ?? 0);
    const items = Array.from({ length: 200 }, (_, i) => `d${i}`);
    for (const [i, x] of items.entries()) scores.set(x, (i * 37) % 101);
    for (const x of items) q.add(x);
    q.add("d5"); // duplicate adds are ignored
    q.delete("d1");
    expect(q.size).toBe(199);
    const popped: string[] = [];
    for (let x = q.pop(); x !== undefined; x = q.pop()) popped.push(x);
    expect(popped).toHaveLength(199);
    expect(popped).not.toContain("d1");
    const poppedScores = popped.map((x) => scores.get(x)!);
    expect(poppedScores).toEqual([...poppedScores].sort((a, b) => b - a));

    q.add("a");
    q.add("b");
    scores.set("a", 1);
    scores.set("b", 2);
    scores.set("a", 5); // a's score changed after it was queued
    q.rescore();
    expect(q.pop()).toBe("a");
    expect(q.pop()).toBe("b");
    expect(q.pop()).toBeUndefined();
  });
});
