/**
 * `fediversity-deploy scheduler --listen HOST:PORT [--state FILE] [--max-jobs N] ...`: runs the
 * local scheduler in the foreground until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { AppError } from "../errors.js";
import { createLocalScheduler, parseListen, type LocalSchedulerOptions } from "./local-scheduler.js";

const usage = `usage: fediversity-deploy scheduler [--listen HOST:PORT] [--state FILE] [--max-jobs N]
  [--orphan-grace-secs N] [--orphan-check-secs N] [--cleanup-delay-secs N] [--kill-grace-secs N]`;

function positiveNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new AppError("invalid_argument", `--${name} must be a non-negative number, got ${raw}`);
  return n;
}

export async function runSchedulerCommand(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        listen: { type: "string", default: "127.0.0.1:9001" },
        state: { type: "string" },
        "max-jobs": { type: "string" },
        "orphan-grace-secs": { type: "string" },
        "orphan-check-secs": { type: "string" },
        "cleanup-delay-secs": { type: "string" },
        "kill-grace-secs": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const str = (k: string): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const secs = (k: string): number | undefined => {
    const n = positiveNumber(k, str(k));
    return n === undefined ? undefined : n * 1000;
  };
  let options: LocalSchedulerOptions;
  try {
    const maxJobs = positiveNumber("max-jobs", str("max-jobs"));
    parseListen(str("listen") ?? "");
    options = {
      listen: str("listen"),
      statePath: str("state"),
      maxJobs: maxJobs === undefined ? undefined : Math.max(1, Math.floor(maxJobs)),
      orphanGraceMs: secs("orphan-grace-secs"),
      orphanCheckMs: secs("orphan-check-secs"),
      cleanupDelayMs: secs("cleanup-delay-secs"),
      killGraceMs: secs("kill-grace-secs"),
      logger: pino({ name: "scheduler" }, pino.destination(2)),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const scheduler = await createLocalScheduler(options);
  process.stderr.write(`scheduler listening on ${scheduler.url}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await scheduler.close();
  return 0;
}
