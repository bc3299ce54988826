// Evaluation + DAG for a generated 2,000-node DAG, against plain `nix-instantiate` +
// `nix show-derivation -r` (+ JSON.parse) on the same expression. Each round uses a fresh salt so
// both sides write 2,000 new .drv files. Run: npx tsx bench/eval-dag.ts [rounds]
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { buildDag } from "../src/eval/dag-builder.js";
import { loadDeploymentTypes } from "../src/eval/deployment-types.js";
import { createEvaluator } from "../src/eval/evaluator.js";
import { nixEnv } from "../src/nix-env.js";

const fixtures = fileURLToPath(new URL("../test/fixtures/eval/", import.meta.url));
const width = 1998; // + base + root = 2,000 nodes
const rounds = Number(process.argv[2] ?? 5);

/**
 * CPU seconds used so far by this process and its reaped children (utime, stime, cutime, cstime
 * from /proc/self/stat): a measure that, unlike wall time, other load on the machine barely moves.
 */
function cpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

interface Sample {
  wall: number;
  cpu: number;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "fd-bench-"));
  const types = await loadDeploymentTypes(join(fixtures, "deployment-types.json"));
  const wide = types.get("wide")!;
  const evaluator = createEvaluator({ gcRootsDir: join(work, "roots") });
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

  const ours = async (salt: string): Promise<Sample> => {
    const c0 = cpuMs();
    const t0 = performance.now();
    const r = await evaluator.evaluate(wide, { salt, width });
    const ms = { wall: performance.now() - t0, cpu: cpuMs() - c0 };
    if (r.dag.nodes.length !== 2000) throw new Error(`expected 2000 nodes, got ${r.dag.nodes.length}`);
    await r.release();
    return ms;
  };
  const plain = async (salt: string): Promise<Sample> => {
    const cfg = join(work, `cfg-${salt}.json`);
    await writeFile(cfg, JSON.stringify({ salt, width }));
    const c0 = cpuMs();
    const t0 = performance.now();
    const inst = await execa(
      "nix-instantiate",
      ["-E", "{ cfg }: (import ./wide.nix { configuration = builtins.fromJSON (builtins.readFile cfg); }).root", "--argstr", "cfg", cfg],
      { cwd: fixtures, env: nixEnv() },
    );
    const show = await execa("nix", ["show-derivation", "-r", inst.stdout.trim()], { env: nixEnv(), maxBuffer: 1e9 });
    const nodes = Object.keys(JSON.parse(show.stdout) as object).length;
    const ms = { wall: performance.now() - t0, cpu: cpuMs() - c0 };
    if (nodes !== 2000) throw new Error(`expected 2000 nodes, got ${nodes}`);
    return ms;
  };

  // warm-up (file cache, JIT)
  const rssBefore = process.resourceUsage().maxRSS;
  await ours(`${run}-warm-a`);
  const rssOurs = process.resourceUsage().maxRSS;
  await plain(`${run}-warm-b`);
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < rounds; i++) {
    // alternate the order so neither side always runs on a warmer machine
    if (i % 2 === 0) {
      a.push(await ours(`${run}-o${i}`));
      b.push(await plain(`${run}-p${i}`));
    } else {
      b.push(await plain(`${run}-p${i}`));
      a.push(await ours(`${run}-o${i}`));
    }
  }
  // DAG reading alone, on already-written .drv files
  const again = await evaluator.evaluate(wide, { salt: `${run}-o0`, width });
  const t0 = performance.now();
  await buildDag(again.dag.roots);
  const dagOnly = performance.now() - t0;
  await again.release();

  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const min = (xs: number[]): number => Math.min(...xs);
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(", ");
  const [aw, bw, ac, bc] = [a.map((x) => x.wall), b.map((x) => x.wall), a.map((x) => x.cpu), b.map((x) => x.cpu)];
  console.log(`2,000-node DAG, ${rounds} rounds, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  console.log(`  wall ms: ours [${fmt(aw)}]  nix-instantiate + show-derivation -r [${fmt(bw)}]`);
  console.log(`  cpu ms:  ours [${fmt(ac)}]  nix-instantiate + show-derivation -r [${fmt(bc)}]`);
  console.log(`wall median: ours ${median(aw).toFixed(0)} ms, plain ${median(bw).toFixed(0)} ms, ratio ${(median(aw) / median(bw)).toFixed(2)}x (target <= 1.2x)`);
  console.log(`wall best:   ours ${min(aw).toFixed(0)} ms, plain ${min(bw).toFixed(0)} ms, ratio ${(min(aw) / min(bw)).toFixed(2)}x`);
  console.log(`cpu median:  ours ${median(ac).toFixed(0)} ms, plain ${median(bc).toFixed(0)} ms, ratio ${(median(ac) / median(bc)).toFixed(2)}x`);
  console.log(`DAG read + parse + cache check alone (warm .drv files): ${dagOnly.toFixed(0)} ms`);
  const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
  console.log(`peak RSS: ${mib(rssBefore)} after start-up (node + tsx), ${mib(rssOurs)} after our first 2,000-node evaluation, ${mib(process.resourceUsage().maxRSS)} at the end (baseline's JSON.parse included)`);
  await rm(work, { recursive: true, force: true });
}

await main();
