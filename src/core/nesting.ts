/**
 * How deeply a client's value nests, measured without recursion: canonical JSON, JSON.stringify and
 * schema validation all recurse, so a value nested thousands deep must be refused before any of
 * them touches it.
 */
import { defaultLimits } from "./limits.js";

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

/** The problem to report for a configuration nested too deeply, or null when it is within the limit. */
export function configurationDepthProblem(
  configuration: unknown,
  limit: number = defaultLimits.maxConfigurationDepth,
): { readonly message: string; readonly detail: { readonly path: string; readonly message: string } } | null {
  if (!nestsDeeperThan(configuration, limit)) return null;
  return {
    message: `configuration is nested too deeply (limit: ${limit} levels)`,
    detail: { path: "configuration", message: `must not nest deeper than ${limit} levels` },
  };
}
