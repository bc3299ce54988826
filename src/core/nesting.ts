/**
 * How deeply a client's value nests, measured without recursion: canonical JSON, JSON.stringify and
 * schema validation all recurse, so a value nested thousands deep must be refused before any of
 * them touches it.
 */
import { defaultLimits, type Limits, type RuleViolation } from "./limits.js";

/** True when objects/arrays in `value` nest deeper than `limit` levels (the value itself is level 1). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** `configuration`: at most `maxConfigurationDepth` levels of objects and arrays, else invalid_argument naming the limit. */
export function configurationDepthViolation(
  configuration: unknown,
  limits: Pick<Limits, "maxConfigurationDepth"> = defaultLimits,
): RuleViolation | null {
  const limit = limits.maxConfigurationDepth;
  if (!nestsDeeperThan(configuration, limit)) return null;
  return {
    code: "invalid_argument",
    message: `configuration is nested too deeply (limit: ${limit} levels)`,
    detail: { path: "configuration", message: `must not nest deeper than ${limit} levels` },
  };
}
