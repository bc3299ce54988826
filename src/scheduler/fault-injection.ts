/**
 * The refusal window behind the fault knobs: a standby or overloaded scheduler answers every RPC
 * with UNAVAILABLE / RESOURCE_EXHAUSTED for a while, as a real rio-build deployment can. The other
 * knobs (cut streams, forgetting, failover) live in local-scheduler.ts.
 */
import type { Interceptor } from "@connectrpc/connect";
import { AppError } from "../errors.js";

export interface RefusalWindow {
  refuse(code: "unavailable" | "resource_exhausted", ms: number): void;
  /** Refuse with UNAVAILABLE while `fn` runs (a failover's switch-over), then restore the window. */
  during<T>(fn: () => Promise<T>): Promise<T>;
  readonly interceptor: Interceptor;
}

export function createRefusalWindow(): RefusalWindow {
  let until = 0;
  let code: "unavailable" | "resource_exhausted" = "unavailable";
  let switching = false;
  return {
    refuse(kind, ms) {
      code = kind;
      until = Date.now() + ms;
    },
    async during(fn) {
      switching = true;
      try {
        return await fn();
      } finally {
        switching = false;
      }
    },
    interceptor: (next) => async (req) => {
      if (switching) throw new AppError("unavailable", "not leader (failover in progress)");
      if (Date.now() < until) {
        throw new AppError(code, code === "unavailable" ? "not leader (standby replica)" : "scheduler is overloaded, retry later");
      }
      return next(req);
    },
  };
}
