/**
 * Test-only knobs that make the local scheduler misbehave the way a real rio-build deployment
 * can: a standby or overloaded scheduler (UNAVAILABLE / RESOURCE_EXHAUSTED for a while), streams
 * cut without a terminal event, and early forgetting of builds. Failover lives in index.ts.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export interface RefusalWindow {
  refuse(code: "unavailable" | "resource_exhausted", ms: number): void;
  /** Refuse with UNAVAILABLE while `fn` runs (a failover's switch-over), then restore the window. */
  during<T>(fn: () => Promise<T>): Promise<T>;
  readonly interceptor: Interceptor;
}

export function createRefusalWindow(): RefusalWindow {
  let until = 0;
  let code = Code.Unavailable;
  let switching = false;
  return {
    refuse(kind, ms) {
      code = kind === "unavailable" ? Code.Unavailable : Code.ResourceExhausted;
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
      if (switching) throw new ConnectError("not leader (failover in progress)", Code.Unavailable);
      if (Date.now() < until) {
        throw new ConnectError(
          code === Code.Unavailable ? "not leader (standby replica)" : "scheduler is overloaded, retry later",
          code,
        );
      }
      return next(req);
    },
  };
}
