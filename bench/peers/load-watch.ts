/**
 * How busy the machine is while bench/peers.ts measures: the load average (os.loadavg) before
 * and during, and, on Linux, how many threads of *other* processes were runnable on average,
 * sampled from /proc (the load average also counts our own router and clients, which keep one or
 * two cores busy by design).
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";

export interface LoadReport {
  readonly cores: number;
  /** 1-minute load average when the watch started. */
  readonly before: number;
  /** Highest 1-minute load average seen while it ran. */
  readonly duringMax: number;
  /** Mean number of runnable threads not ours, or NaN where /proc is unavailable. */
  readonly othersRunnable: number;
}

export interface LoadWatch {
  /** Our processes, whose runnable threads are not counted as "others". */
  track(pid: number): void;
  untrack(pid: number): void;
  stop(): LoadReport;
}

export function startLoadWatch(intervalMs = 250): LoadWatch {
  const cores = availableParallelism();
  const before = loadavg()[0]!;
  const ours = new Set<number>([process.pid]);
  let duringMax = before;
  let othersSum = 0;
  let samples = 0;
  let procOk = true;
  const sample = (): void => {
    duringMax = Math.max(duringMax, loadavg()[0]!);
    if (!procOk) return;
    try {
      // Field 4 is "runnable/total" scheduling entities, this reading thread included.
      const runnable = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[3]!.split("/")[0]);
      let mine = 0;
      for (const pid of ours) mine += runnableThreads(pid);
      othersSum += Math.max(0, runnable - Math.max(mine, 1));
      samples++;
    } catch {
      procOk = false;
    }
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    track: (pid) => void ours.add(pid),
    untrack: (pid) => void ours.delete(pid),
    stop() {
      clearInterval(timer);
      sample();
      return { cores, before, duringMax, othersRunnable: procOk && samples > 0 ? othersSum / samples : NaN };
    },
  };
}

function runnableThreads(pid: number): number {
  let n = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      // The state letter follows the parenthesised command name.
      if (stat[stat.lastIndexOf(")") + 2] === "R") n++;
    } catch {
      // the thread ended meanwhile
    }
  }
  return n;
}

/** The warning line, or undefined when the machine looked quiet enough to trust the figures. */
export function loadWarning(r: LoadReport): string | undefined {
  const busyBefore = r.before >= r.cores / 2;
  const busyDuring = Number.isFinite(r.othersRunnable) ? r.othersRunnable >= r.cores / 4 : r.duringMax >= r.cores * 1.5;
  if (!busyBefore && !busyDuring) return undefined;
  const others = Number.isFinite(r.othersRunnable) ? `; other processes kept ${r.othersRunnable.toFixed(1)} threads runnable on average during the runs` : "";
  return (
    `figures unreliable: load average ${r.before.toFixed(2)} on ${r.cores} cores before the runs, up to ${r.duringMax.toFixed(2)} during${others}. ` +
    "Ratios of interleaved pairs hold up better than the absolute figures."
  );
}
