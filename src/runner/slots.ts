/**
 * A counting semaphore whose waiters can give up (abort signal): bounds how many syncs run an
 * expensive step (Nix evaluation) at once, however many syncs are in flight.
 */
import { AppError } from "../errors.js";

export interface Slots {
  /** Resolves with a release function once a slot is free; rejects `cancelled` if `signal` fires first. */
  acquire(signal: AbortSignal): Promise<() => void>;
  /** Slots in use and callers waiting (diagnostics, tests). */
  readonly inUse: number;
  readonly waiting: number;
}

export function createSlots(size: number): Slots {
  if (!Number.isInteger(size) || size < 1) throw new AppError("invalid_argument", `slot count must be a positive integer, got ${size}`);
  let inUse = 0;
  const waiters: { grant: () => void }[] = [];

  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      if (next) next.grant();
      else inUse -= 1;
    };
  };

  return {
    get inUse() {
      return inUse;
    },
    get waiting() {
      return waiters.length;
    },
    acquire(signal) {
      if (signal.aborted) return Promise.reject(new AppError("cancelled", "aborted while waiting for a slot"));
      if (inUse < size) {
        inUse += 1;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          grant: () => {
            signal.removeEventListener("abort", onAbort);
            resolve(releaser());
          },
        };
        const onAbort = () => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new AppError("cancelled", "aborted while waiting for a slot"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
      });
    },
  };
}
