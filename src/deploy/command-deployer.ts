/**
 * Deploys by running an operator-given argv template (a nixops4 or tofu invocation, say), without
 * a shell. Placeholders are replaced inside each argv element and never split, so a value can
 * never become several arguments or shell syntax:
 *   {out} an output store path · {deployment} · {tenant} · {generation} · {target} the target
 *   directory <stateDir>/targets/<tenant>/<deployment>.
 * A template that uses {out} runs once per output (in order; reverse order for teardown); one
 * without runs once. {target} exists when the command runs. Secrets arrive as environment variables. Idempotency is the command's own
 * (nixops4 and tofu converge), so a re-run after a crash simply runs it again. Rollback runs the
 * rollback template (or the apply template) with the stored generation's outputs and number.
 */
import { mkdir } from "node:fs/promises";
import { AppError } from "../errors.js";
import { nixEnv } from "../nix-env.js";
import type { DeployerConfig } from "./config.js";
import { createDeadline } from "./deadline.js";
import { createOutputFetcher } from "./output-fetcher.js";
import { redactError, targetDir } from "./profile-deployer.js";
import { createRedactor } from "./redactor.js";
import { defaultKillGraceMs, describeFailure, runProcess, type RunResult } from "./run-process.js";
import { loadSecrets } from "./secrets.js";
import type { DeployContext, Deployer, DeployerDeps, DeployResult } from "./types.js";
import { checkIds, checkStorePaths } from "./validate.js";

export interface TemplateValues {
  readonly out: string;
  readonly deployment: string;
  readonly tenant: string;
  readonly generation: string;
  readonly target: string;
}

const placeholder = /\{(out|deployment|tenant|generation|target)\}/g;

/** Substitutes placeholders element by element; unknown `{…}` text is left as it is. */
export function renderTemplate(template: readonly string[], values: TemplateValues): string[] {
  return template.map((element) => element.replace(placeholder, (_m, name: keyof TemplateValues) => values[name]));
}

export function createCommandDeployer(config: Extract<DeployerConfig, { kind: "command" }>, deps: DeployerDeps): Deployer {
  const killGraceMs = deps.killGraceMs ?? defaultKillGraceMs;
  const fetcher = createOutputFetcher({ killGraceMs, ...(deps.storeUrl ? { storeUrl: deps.storeUrl } : {}) });

  async function runTemplate(
    template: readonly string[],
    ctx: DeployContext,
    outputs: readonly string[],
    generation: number,
    env: NodeJS.ProcessEnv,
    op: { signal: AbortSignal; redactor: ReturnType<typeof createRedactor> },
  ): Promise<RunResult | null> {
    const usesOut = template.some((e) => e.includes("{out}"));
    const runs = usesOut ? outputs : [outputs[0] ?? ""];
    const target = targetDir(deps.stateDir, ctx.tenant, ctx.deployment);
    await mkdir(target, { recursive: true });
    for (const out of runs) {
      const argv = renderTemplate(template, { out, deployment: ctx.deployment, tenant: ctx.tenant, generation: String(generation), target });
      ctx.onLine("deploy", op.redactor.redact(`running ${JSON.stringify(argv)}`));
      const result = await runProcess(argv, {
        env: { ...env, FEDIVERSITY_TARGET_DIR: target, FEDIVERSITY_GENERATION: String(generation), FEDIVERSITY_OUT: out },
        signal: op.signal,
        redactor: op.redactor,
        onLine: (text) => ctx.onLine("deploy", text),
        killGraceMs,
      });
      if (result.exitCode !== 0) return result;
    }
    return null;
  }

  async function begin(ctx: DeployContext, what: string) {
    checkIds(ctx);
    const secretEnv = await loadSecrets(ctx.secrets);
    const redactor = createRedactor(Object.values(secretEnv));
    const env: NodeJS.ProcessEnv = {
      ...nixEnv(process.env),
      FEDIVERSITY_TENANT: ctx.tenant,
      FEDIVERSITY_DEPLOYMENT: ctx.deployment,
      FEDIVERSITY_SYNC: ctx.sync,
      ...secretEnv,
    };
    const newOp = () => {
      const deadline = createDeadline(ctx.signal, ctx.timeoutMs, what);
      return { op: { signal: deadline.signal, redactor }, dispose: deadline.dispose };
    };
    return { redactor, env, newOp };
  }

  /** ctx.outputs made live with `template`; on failure ctx.previous is re-applied (rollback_on_failure). */
  async function makeOutputsLive(ctx: DeployContext, template: readonly string[], what: "deploy" | "rollback"): Promise<DeployResult> {
    const s = await begin(ctx, what);
    if (ctx.outputs.length === 0) throw new AppError("invalid_argument", `nothing to ${what === "deploy" ? "deploy" : "roll back to"}: no outputs`);
    checkStorePaths(ctx.outputs);
    if (ctx.previous) checkStorePaths(ctx.previous.outputs, "previous.outputs");
    const { op, dispose } = s.newOp();
    let started = false;
    try {
      await fetcher.fetchOutputs(ctx.outputs, { ...op, onLine: (t) => ctx.onLine("deploy", t) });
      started = true;
      const failure = await runTemplate(template, ctx, ctx.outputs, ctx.generation, s.env, op);
      if (!failure) return { outputs: ctx.outputs, profileGeneration: null };
      const reason = describeFailure(failure, `${what} command`);
      if (!config.rollback_on_failure) throw new AppError("failed_precondition", `${reason}; rollback_on_failure is off`);
      throw new AppError("failed_precondition", `${reason}; ${await recover(ctx, s)}`);
    } catch (err) {
      if (AppError.is(err, "timeout") && started && config.rollback_on_failure) {
        throw redactError(s.redactor, new AppError("timeout", `${err.message}; ${await recover(ctx, s)}`));
      }
      throw redactError(s.redactor, err);
    } finally {
      dispose();
    }
  }

  /** Re-applies ctx.previous: the rollback template, or the apply template with its outputs. */
  async function recover(ctx: DeployContext, s: Awaited<ReturnType<typeof begin>>): Promise<string> {
    const previous = ctx.previous;
    if (!previous || previous.outputs.length === 0) return "nothing to roll back to";
    const { op, dispose } = s.newOp();
    try {
      await fetcher.fetchOutputs(previous.outputs, { ...op, onLine: (t) => ctx.onLine("deploy", t) });
      const failure = await runTemplate(config.rollback ?? config.apply, ctx, previous.outputs, previous.generation, s.env, op);
      if (failure) return `rollback to generation ${previous.generation} failed too (${describeFailure(failure, "rollback command")})`;
      return `rolled back to generation ${previous.generation}`;
    } catch (err) {
      return `rollback failed: ${s.redactor.redact(AppError.from(err).message)}`;
    } finally {
      dispose();
    }
  }

  return {
    kind: "command",

    apply: (ctx) => makeOutputsLive(ctx, config.apply, "deploy"),

    rollback: (ctx) => makeOutputsLive(ctx, config.rollback ?? config.apply, "rollback"),

    async teardown(ctx): Promise<DeployResult> {
      const s = await begin(ctx, "teardown");
      if (config.teardown === undefined) {
        ctx.onLine("deploy", "no teardown command configured; nothing to do");
        return { outputs: [], profileGeneration: null };
      }
      checkStorePaths(ctx.outputs);
      const { op, dispose } = s.newOp();
      try {
        const failure = await runTemplate(config.teardown, ctx, [...ctx.outputs].reverse(), ctx.generation, s.env, op);
        if (failure) throw new AppError("failed_precondition", describeFailure(failure, "teardown command"));
        return { outputs: [], profileGeneration: null };
      } catch (err) {
        throw redactError(s.redactor, err);
      } finally {
        dispose();
      }
    },
  };
}
