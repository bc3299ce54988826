/**
 * Core throws only here, and only for a broken invariant (a bug, never a caller's mistake): core
 * imports nothing, so not AppError either; every edge turns these into `internal` (AppError.from).
 */

/** Ends every `switch` over a closed union: a new member becomes a compile error here. */
export function assertNever(value: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${String(value)}`);
}

/** A rule decided something its own preconditions exclude. */
export function unreachable(why: string): never {
  throw new Error(`broken invariant: ${why}`);
}
