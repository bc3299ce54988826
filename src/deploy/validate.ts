/**
 * Checks of the values deployers put into paths, remote commands and argv templates. They are
 * validated at the API edge already; deployers check again because they build commands from them.
 */
import { AppError } from "../errors.js";

const tenantPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const deploymentPattern = /^[a-z0-9][a-z0-9_]{0,62}$/;
/** `<store dir>/<32-char hash>-<name>`; the store dir may be relocated (NIX_STORE_DIR). */
const storePathPattern = /^(\/[A-Za-z0-9._+-]+)+\/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+$/;

export function checkIds(ctx: { tenant: string; deployment: string }): void {
  if (!tenantPattern.test(ctx.tenant)) {
    throw new AppError("invalid_argument", "invalid tenant name", [{ path: "tenant", message: "must match ^[a-z0-9][a-z0-9_-]{0,62}$" }]);
  }
  if (!deploymentPattern.test(ctx.deployment)) {
    throw new AppError("invalid_argument", "invalid deployment id", [
      { path: "deployment", message: "must match ^[a-z0-9][a-z0-9_]{0,62}$" },
    ]);
  }
}

export function checkStorePaths(paths: readonly string[], field = "outputs"): void {
  paths.forEach((p, i) => {
    if (!storePathPattern.test(p)) {
      throw new AppError("invalid_argument", `not a store path: ${JSON.stringify(p)}`, [{ path: `${field}.${i}`, message: "not a store path" }]);
    }
  });
}

export function isStorePath(value: string): boolean {
  return storePathPattern.test(value);
}
