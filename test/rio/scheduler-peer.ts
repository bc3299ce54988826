/** One local scheduler per test file (port 0) and a rio client with test-sized retry schedules. */
import { createRioClient, type RioClient, type RioClientOptions } from "../../src/rio/index.js";
import { createLocalScheduler, type LocalScheduler, type LocalSchedulerOptions } from "../../src/scheduler/index.js";

export const fastPolicies = {
  headerTimeoutMs: 10_000,
  reattach: { delaysMs: [50, 100, 200, 400], maxAttempts: 10 },
  submitRetry: { delaysMs: [100, 200, 400], maxAttempts: 30 },
} as const;

export async function startPeer(options: LocalSchedulerOptions = {}): Promise<LocalScheduler> {
  return createLocalScheduler({ listen: "127.0.0.1:0", ...options });
}

export function clientFor(scheduler: LocalScheduler, options: Partial<RioClientOptions> = {}): RioClient {
  return createRioClient({ url: scheduler.url, ...fastPolicies, ...options });
}
