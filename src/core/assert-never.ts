/** Ends every `switch` over a closed union: a new member becomes a compile error here. */
export function assertNever(value: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${String(value)}`);
}
