/**
 * docs/api.md: `build.logs` with `follow: true` streams "until the sync is terminal or the call is
 * cancelled". A caller cancelling mid-follow gets wamp.error.canceled at once and no further
 * progressive results, in every cancel mode, while the sync itself goes on.
 *
 * Modes skip and killnowait are checked with a raw WAMP client: autobahn-js 22 rejects those calls
 * itself and then treats the dealer's ERROR (which the WAMP spec prescribes) as a protocol
 * violation, so with autobahn-js callers should cancel with mode `kill`, checked separately.
 */
import { afterAll, expect, it } from "vitest";
import { connectWamp, freshSalt, makeE2eDir, sleep, startInProcess, until, waitForSync, type SyncView } from "../helpers/e2e-service.js";
import { RawClient } from "../router/helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface CancellableCall {
  then(ok: (r: unknown) => void, fail: (e: unknown) => void, progress: (p: unknown) => void): void;
  cancel(options: { mode: string }): void;
}

it("a follow cancelled by its caller ends at once for the caller, in every mode", { timeout: 60_000 }, async () => {
  const dir = await makeE2eDir();
  cleanups.push(() => dir.remove());
  const service = await startInProcess(dir);
  cleanups.push(() => service.stop());
  const w = await connectWamp(service.url, dir.principals.acme);
  cleanups.push(() => w.close());
  const submitted = await w.call<{ sync: SyncView }>("fediversity.deployment.submit", {
    deployment: "app",
    deployment_type: "e2e",
    configuration: { salt: freshSalt(), lines: 5, build_sleep_secs: 8 },
  });
  const sync = submitted.sync.sync;
  // Wait for build output, so every follow below starts with a page of lines before its cancel.
  await until(async () => (await w.call<{ lines: unknown[] }>("fediversity.build.logs", { deployment: "app", sync })).lines.length > 0, "build output", 30_000);

  const raw = await RawClient.open(service.url, "json");
  const welcome = await raw.join({ authid: dir.principals.acme.authid, ticket: dir.principals.acme.ticket });
  expect(welcome[0]).toBe(2);
  let request = 100;
  for (const mode of ["skip", "killnowait", "kill"]) {
    const id = ++request;
    raw.send([48, id, { receive_progress: true }, "fediversity.build.logs", [], { deployment: "app", sync, follow: true }]);
    await sleep(300);
    raw.send([49, id, { mode }]);
    const answer = await raw.next((m) => m[0] === 8 && m[2] === id, 5_000);
    const seenBefore = raw.messages.length; // progressive results that came before the answer
    expect(raw.messages.some((m) => m[0] === 50 && m[1] === id && (m[2] as { progress?: boolean }).progress === true), mode).toBe(true);
    expect(answer.slice(0, 5), mode).toEqual([8, 48, id, {}, "wamp.error.canceled"]);
    await sleep(500);
    expect(raw.messages.slice(seenBefore).filter((m) => m[0] === 50 && m[1] === id), mode).toEqual([]);
  }
  raw.close();

  // autobahn-js, mode kill: the call is rejected with wamp.error.canceled and nothing follows.
  let progressAfterCancel = 0;
  let cancelled = false;
  let outcome: { error?: string } | "resolved" | null = null;
  const call = w.session.call("fediversity.build.logs", [], { deployment: "app", sync, follow: true }, { receive_progress: true }) as unknown as CancellableCall;
  let progressBeforeCancel = 0;
  call.then(
    () => (outcome = "resolved"),
    (e) => (outcome = (e ?? {}) as { error?: string }),
    () => {
      if (cancelled) progressAfterCancel += 1;
      else progressBeforeCancel += 1;
    },
  );
  await sleep(300);
  cancelled = true;
  call.cancel({ mode: "kill" });
  await until(() => outcome !== null, "the kill cancel to answer", 5_000);
  expect(progressBeforeCancel).toBeGreaterThan(0);
  expect(outcome).toMatchObject({ error: "wamp.error.canceled" });
  await sleep(500);
  expect(progressAfterCancel).toBe(0);

  // The sync was not affected, and the service still answers.
  expect(await waitForSync(w, "app", sync, undefined, { timeoutMs: 40_000 })).toBe("succeeded");
});
