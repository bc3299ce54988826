/**
 * Hostile Nix through the whole service: configurations of the hostile test type that recurse
 * forever, allocate without bound, log without end (evaluation and build), produce an enormous
 * evaluation result, or hang in activation. Each must end as a bounded, clear sync failure, while
 * an ordinary sync of another deployment, submitted at the same time, succeeds.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { healthz, mustCall, openSession, report, salt, startHostileService, waitTerminal, type HostileService } from "./support.js";

let svc: HostileService;
beforeAll(async () => {
  svc = await startHostileService({
    env: {
      FEDIVERSITY_DEPLOY_TIMEOUT_SECS: "6",
      // A small log bound so the flood test is quick (the service default is 64 MiB).
      FEDIVERSITY_NIX_CONFIG: "max-build-log-size = 4000000",
    },
  });
}, 90_000);
afterAll(async () => {
  await svc?.dispose();
});

interface Outcome {
  state: string;
  code: string;
  message: RegExp;
}
const cases: (Outcome & { behaviour: string; boundSecs: number; alternative?: Outcome })[] = [
  { behaviour: "recurse", state: "failed", code: "eval_failed", message: /stack overflow|infinite recursion/, boundSecs: 45 },
  { behaviour: "alloc", state: "failed", code: "eval_failed", message: /out of memory \(evaluation memory limit: 256 MiB\)/, boundSecs: 45 },
  // 1 KiB trace lines reach the 16 MiB stderr cap in a few seconds; on a starved machine the
  // evaluation timeout (40 s) may come first, which is just as bounded.
  { behaviour: "trace_flood", state: "failed", code: "eval_failed", message: /wrote more than \d+ MiB to stderr/, boundSecs: 45, alternative: { state: "timed_out", code: "timeout", message: /timed out after/ } },
  { behaviour: "huge_eval_output", state: "failed", code: "eval_failed", message: /wrote more than \d+ MiB to stdout/, boundSecs: 60 },
  { behaviour: "build_log_flood", state: "failed", code: "build_failed", message: /log output|log limit/, boundSecs: 60 },
  { behaviour: "deploy_hang", state: "timed_out", code: "timeout", message: /timed out/, boundSecs: 60 },
];

function matches(o: { state: string; code: string | null; message: string }, want: Outcome): boolean {
  return o.state === want.state && o.code === want.code && want.message.test(o.message);
}

it("ends every hostile configuration as a bounded, clear failure while an ordinary sync succeeds", { timeout: 170_000 }, async () => {
  const panel = await openSession(svc.url, svc.principals.find((p) => p.role === "panel")!);
  const t0 = Date.now();
  const submitted = await Promise.all(
    cases.map(async (c) => {
      const r = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "acme", deployment: c.behaviour, deployment_type: "hostile", configuration: { salt: salt(), behaviour: c.behaviour } });
      return { ...c, sync: r.sync.sync };
    }),
  );
  // The ordinary one, on another tenant, at the same time.
  const ok = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "beta", deployment: "ordinary", deployment_type: "hostile", configuration: { salt: salt(), behaviour: "ok" } });
  const okEnd = await waitTerminal(panel, "beta", "ordinary", ok.sync.sync, 150_000);
  const okSecs = (Date.now() - t0) / 1000;
  const outcomes = await Promise.all(
    submitted.map(async (c) => {
      const end = await waitTerminal(panel, "acme", c.behaviour, c.sync, 150_000);
      return { behaviour: c.behaviour, state: end.state, code: end.error?.code ?? null, message: end.error?.message.slice(0, 300) ?? "", secs: (Date.now() - t0) / 1000, expected: c };
    }),
  );
  process.stdout.write(`[hostile] hostile nix: ${JSON.stringify(outcomes.map(({ expected: _e, ...o }) => o))}; ordinary ${okEnd.state} after ${okSecs.toFixed(1)} s\n`);
  const mem = process.memoryUsage();
  report("hostile-nix", {
    cases: outcomes.length,
    bounded: outcomes.filter((o) => matches(o, o.expected) || (o.expected.alternative !== undefined && matches(o, o.expected.alternative))).length,
    ordinary: okEnd.state,
    outcomes: outcomes.map(({ expected: _e, ...o }) => o),
    testRssMb: Math.round(mem.rss / 1e6),
    faultsSurvived: outcomes.some((o) => o.behaviour === "deploy_hang" && o.state === "timed_out") && okEnd.state === "succeeded" ? ["deployer hang → timed_out, other deployment unaffected"] : [],
  });
  expect(okEnd.state).toBe("succeeded");
  for (const o of outcomes) {
    const want = o.expected.alternative && matches(o, o.expected.alternative) ? o.expected.alternative : o.expected;
    expect({ behaviour: o.behaviour, state: o.state, code: o.code }).toEqual({ behaviour: o.behaviour, state: want.state, code: want.code });
    expect(o.message).toMatch(want.message);
    // Bounded: ended well within the phase limits, not by the test giving up.
    expect(o.secs).toBeLessThan(o.expected.boundSecs);
  }
  // The service survived all of it, and the build log of the flood stayed bounded.
  expect(svc.alive()).toBe(true);
  expect((await healthz(svc.httpUrl))?.status).toBe("ok");
  panel.connection.close();
});

it("carries one enormous output line (build 3 MB, activation 20 MB) without holding it whole, and keeps subscribers connected", { timeout: 120_000 }, async () => {
  const panel = await openSession(svc.url, svc.principals.find((p) => p.role === "panel")!);
  let logEvents = 0;
  await panel.subscribe("fediversity.logs.acme", () => void (logEvents += 1), { match: "prefix" });
  const out: Record<string, { state: string; lines: number; longest: number }> = {};
  for (const behaviour of ["build_long_line", "deploy_long_line"]) {
    const r = await mustCall<{ sync: { sync: string } }>(panel, "deployment.submit", { tenant: "acme", deployment: behaviour, deployment_type: "hostile", configuration: { salt: salt(), behaviour } });
    const end = await waitTerminal(panel, "acme", behaviour, r.sync.sync, 90_000);
    let lines = 0;
    let longest = 0;
    let since = 0;
    for (;;) {
      const page = await mustCall<{ lines: { text: string }[]; next_line: number; complete: boolean }>(panel, "build.logs", { tenant: "acme", deployment: behaviour, sync: r.sync.sync, since_line: since, limit: 50 }, 30_000);
      lines += page.lines.length;
      for (const l of page.lines) longest = Math.max(longest, l.text.length);
      if (page.lines.length === 0 || page.complete) break;
      since = page.next_line;
    }
    out[behaviour] = { state: end.state, lines, longest };
  }
  process.stdout.write(`[hostile] long lines: ${JSON.stringify(out)}; log events received ${logEvents}\n`);
  report("long-lines", { ...out, logEvents });
  expect(out.build_long_line?.state).toBe("succeeded");
  expect(out.deploy_long_line?.state).toBe("succeeded");
  // Both reached the log whole, in pieces of at most 64 Ki characters.
  expect(out.deploy_long_line!.longest).toBeLessThanOrEqual(64 * 1024);
  expect(out.build_long_line!.longest).toBeLessThanOrEqual(64 * 1024);
  expect(out.build_long_line!.lines).toBeGreaterThanOrEqual(Math.floor(3_000_000 / 65_536));
  expect(out.deploy_long_line!.lines).toBeGreaterThanOrEqual(Math.floor(20_000_000 / 65_536));
  expect(panel.isOpen).toBe(true);
  expect(logEvents).toBeGreaterThan(0);
  expect(svc.alive()).toBe(true);
  panel.connection.close();
});
