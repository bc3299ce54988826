import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { createSlots } from "./slots.js";

describe("createSlots", () => {
  it("grants up to its size at once and hands a released slot to the oldest waiter", async () => {
    const slots = createSlots(2);
    const live = new AbortController().signal;
    const a = await slots.acquire(live);
    const b = await slots.acquire(live);
    const order: string[] = [];
    const c = slots.acquire(live).then((release) => (order.push("c"), release));
    const d = slots.acquire(live).then((release) => (order.push("d"), release));
    expect(slots).toMatchObject({ inUse: 2, waiting: 2 });
    a();
    a(); // a second release of the same slot is ignored
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect(slots).toMatchObject({ inUse: 2, waiting: 1 });
    b();
    (await d)();
    releaseC();
    expect(slots).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it("lets a waiter give up, without taking a slot", async () => {
    const slots = createSlots(1);
    const release = await slots.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toSatisfy((e) => AppError.is(e, "cancelled"));
    expect(slots.waiting).toBe(0);
    release();
    expect(slots.inUse).toBe(0);
    await expect(slots.acquire(controller.signal)).rejects.toSatisfy((e) => AppError.is(e, "cancelled"));
  });

  it("refuses a size that is not a positive integer", () => {
    expect(() => createSlots(0)).toThrow(AppError);
    expect(() => createSlots(1.5)).toThrow(AppError);
  });
});
