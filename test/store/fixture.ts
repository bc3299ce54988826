import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { Limits } from "../../src/core/index.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/index.js";

/** A temp dir for this test file, removed afterwards. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "fd-store-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestClock {
  now: Date;
  advance(secs: number): void;
}

export function testClock(start = "2026-01-01T00:00:00.000Z"): TestClock {
  const c = {
    now: new Date(start),
    advance(secs: number) {
      c.now = new Date(c.now.getTime() + secs * 1000);
    },
  };
  return c;
}

let counter = 0;
/** A fresh store file in `dir`. */
export function freshStore(dir: string, opts: { clock?: TestClock; limits?: Partial<Limits> } = {}): Store {
  counter += 1;
  const clock = opts.clock;
  const store = openStore({
    path: join(dir, `store-${counter}.db`),
    ...(clock ? { clock: () => clock.now } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  afterAll(() => store.close());
  return store;
}

export const apply = (deployment: string, configuration: unknown = { n: 1 }, more: Record<string, unknown> = {}) => ({
  tenant: "acme",
  deployment,
  deploymentType: "mastodon",
  kind: "apply" as const,
  configuration,
  ...more,
});
